using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Xunit;

namespace VirtioFs.PowerShell.Tests;

/// <summary>A runspace with the staged module imported; scripts run in it and return their output or their errors.</summary>
public sealed class ModuleSession : IDisposable
{
    private readonly Runspace _runspace;

    public ModuleSession()
    {
        string manifest = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../out/VirtioFs/VirtioFs.psd1"));
        Assert.True(File.Exists(manifest), $"stage the module first (scripts/stage-module.sh): {manifest} is missing");
        _runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        _runspace.Open();
        Run("Import-Module -Name $args[0] -Force", manifest);
        Root = Directory.CreateTempSubdirectory("vfs-sdk-").FullName;
    }

    /// <summary>A temporary directory for shares and sockets.</summary>
    public string Root { get; }

    public IReadOnlyList<PSObject> Run(string script, params object[] arguments)
    {
        using var ps = System.Management.Automation.PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddScript(script);
        foreach (object argument in arguments) ps.AddArgument(argument);
        var output = ps.Invoke();
        if (ps.HadErrors && ps.Streams.Error.Count > 0) throw new CmdletErrorException(ps.Streams.Error.ToList());
        return output;
    }

    public void Dispose()
    {
        try { Run("Get-Job | Where-Object PSJobTypeName -eq 'VirtioFsShare' | Remove-Job -Force"); } catch (CmdletErrorException) { }
        _runspace.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}

/// <summary>The error records a script wrote.</summary>
public sealed class CmdletErrorException : Exception
{
    public CmdletErrorException(IReadOnlyList<ErrorRecord> errors)
        : base(string.Join("; ", errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}")))
    {
        Errors = errors;
    }

    public IReadOnlyList<ErrorRecord> Errors { get; }
}
