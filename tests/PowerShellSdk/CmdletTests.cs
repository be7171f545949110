using System.Management.Automation;
using Xunit;

namespace VirtioFs.PowerShell.Tests;

/// <summary>The cmdlets in a real runspace: binding, pipelines, jobs and error records, which xunit cannot reach otherwise.</summary>
public sealed class CmdletTests : IDisposable
{
    private readonly ModuleSession _session = new();

    public void Dispose() => _session.Dispose();

    private string NewDirectory(string name) => Directory.CreateDirectory(Path.Combine(_session.Root, name)).FullName;

    [Fact]
    public void StartReturnsARunningShareThatGetJobSees()
    {
        string dir = NewDirectory("src");
        string socket = Path.Combine(_session.Root, "src.sock");
        PSObject share = _session.Run("Start-VirtioFsShare -Path $args[0] -Tag src -SocketPath $args[1]", dir, socket).Single();
        Assert.Equal("Listening", share.Properties["ShareState"].Value.ToString());
        Assert.True(File.Exists(socket));
        var jobs = _session.Run("Get-Job | Where-Object PSJobTypeName -eq 'VirtioFsShare' | ForEach-Object State");
        Assert.Equal("Running", jobs.Single().ToString());
    }

    [Fact]
    public void StopByNameStopsAndRemovesTheSocket()
    {
        string socket = Path.Combine(_session.Root, "s.sock");
        _session.Run("Start-VirtioFsShare -Path $args[0] -Tag s -SocketPath $args[1] | Out-Null", NewDirectory("s"), socket);
        PSObject stopped = _session.Run("Stop-VirtioFsShare -Name s -PassThru").Single();
        Assert.Equal("Stopped", stopped.Properties["ShareState"].Value.ToString());
        Assert.False(File.Exists(socket));
    }

    [Fact]
    public void ASecondShareWithTheSameTagIsShareTagInUse()
    {
        _session.Run("Start-VirtioFsShare -Path $args[0] -Tag t -Name a -SocketPath $args[1] | Out-Null", NewDirectory("a"), Path.Combine(_session.Root, "a.sock"));
        var e = Assert.Throws<CmdletErrorException>(() =>
            _session.Run("Start-VirtioFsShare -Path $args[0] -Tag t -Name b -SocketPath $args[1]", NewDirectory("b"), Path.Combine(_session.Root, "b.sock")));
        Assert.Equal("ShareTagInUse,VirtioFs.Cmdlets.StartVirtioFsShareCommand", e.Errors[0].FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceExists, e.Errors[0].CategoryInfo.Category);
    }

    [Fact]
    public void UnknownNameIsShareNotFound()
    {
        var e = Assert.Throws<CmdletErrorException>(() => _session.Run("Get-VirtioFsShare -Name nope"));
        Assert.Equal("ShareNotFound,VirtioFs.Cmdlets.GetVirtioFsShareCommand", e.Errors[0].FullyQualifiedErrorId);
    }

    [Fact]
    public void PipedShareGivesSplattableQemuArguments()
    {
        string socket = Path.Combine(_session.Root, "q.sock");
        var args = _session.Run(
            "Start-VirtioFsShare -Path $args[0] -Tag q -SocketPath $args[1] | New-QemuVirtioFsArgs -MemorySize 1GB | ForEach-Object Arguments",
            NewDirectory("q"), socket);
        Assert.Equal("-m", args[0].ToString());
        Assert.Equal("1G", args[1].ToString());
        Assert.Equal($"socket,id=char-fs0,path={socket}", args[7].ToString());
    }

    [Fact]
    public void QueueStatsHasOneRowPerQueue()
    {
        _session.Run("Start-VirtioFsShare -Path $args[0] -Tag st -SocketPath $args[1] -RequestQueues 2 | Out-Null", NewDirectory("st"), Path.Combine(_session.Root, "st.sock"));
        var rows = _session.Run("Get-VirtioFsQueueStats -Name st");
        Assert.Equal(new object[] { 0, 1, 2 }, rows.Select(r => r.Properties["QueueIndex"].Value).ToArray());
    }

    [Fact]
    public void RemovingTheModuleStopsShares()
    {
        string socket = Path.Combine(_session.Root, "rm.sock");
        _session.Run("$global:share = Start-VirtioFsShare -Path $args[0] -Tag rm -SocketPath $args[1]", NewDirectory("rm"), socket);
        _session.Run("Remove-Module VirtioFs");
        Assert.Equal("Stopped", _session.Run("$global:share.ShareState").Single().ToString());
        Assert.False(File.Exists(socket));
    }
}
