using System.Diagnostics;

namespace VirtioFs.EndToEnd.Infrastructure;

/// <summary>
/// A process the test started: stdout and stderr are collected line by line (one list, arrival order) so a failure
/// can show what the process said; disposing kills it and its children if it is still running.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process)
    {
        _process = process;
    }

    public string Name { get; private init; } = "";

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <paramref name="fileName"/> with stdin left open (QEMU's -nographic reads it) and output captured.</summary>
    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var child = new ChildProcess(new Process { StartInfo = info }) { Name = name };
        child._process.OutputDataReceived += (_, e) => child.Receive(e.Data, child._stdoutClosed);
        child._process.ErrorDataReceived += (_, e) => child.Receive(e.Data, child._stderrClosed);
        try
        {
            child._process.Start();
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"Cannot start {name} ({fileName}): {e.Message}", e);
        }

        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Everything printed so far, stdout and stderr interleaved in arrival order.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return _lines.ToArray();
            }
        }
    }

    /// <summary>The last <paramref name="count"/> lines, as one block for a failure message.</summary>
    public string Tail(int count)
    {
        var lines = Lines;
        var tail = lines.Skip(Math.Max(0, lines.Count - count));
        var header = lines.Count > count ? $"[{Name}: last {count} of {lines.Count} lines]" : $"[{Name}: {lines.Count} lines]";
        return header + Environment.NewLine + string.Join(Environment.NewLine, tail.Select(l => "  " + l));
    }

    /// <summary>
    /// Waits for the process to exit and its output to be read completely; false when <paramref name="timeout"/>
    /// passed first (the process is left running: the caller decides whether to kill it).
    /// </summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Kills the process and everything it started; does nothing if it already exited.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Receive(string? line, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
        }
    }
}
