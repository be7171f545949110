using System.Text;

namespace VirtioFs.Frontend.Fuse;

// Depth > 1 for benchmarks: Submit* publishes without waiting, TryReap collects completions in any order. Buffers are
// reused per slot, so steady-state submission allocates nothing.
public sealed partial class FuseClient
{
    public ulong SubmitRead(ulong nodeId, ulong fh, ulong offset, uint size)
    {
        var s = Begin(FuseOpcode.Read, nodeId);
        EncodeReadIn(Arg(s, FuseConstants.ReadInSize), fh, offset, size);
        Reply(s, dataCapacity: (int)size);
        return Enqueue(s);
    }

    public ulong SubmitWrite(ulong nodeId, ulong fh, ulong offset, ReadOnlySpan<byte> data)
    {
        var s = Begin(FuseOpcode.Write, nodeId);
        EncodeWriteIn(Arg(s, FuseConstants.WriteInSize), fh, offset, (uint)data.Length, 0, 0);
        Data(s, data);
        Reply(s, FuseConstants.WriteOutSize);
        return Enqueue(s);
    }

    public ulong SubmitGetattr(ulong nodeId)
    {
        var s = Begin(FuseOpcode.Getattr, nodeId);
        Arg(s, 16);
        Reply(s, FuseConstants.AttrOutSize);
        return Enqueue(s);
    }

    public ulong SubmitLookup(ulong parent, string name)
    {
        var s = Begin(FuseOpcode.Lookup, parent);
        ArgName(s, name);
        Reply(s, FuseConstants.EntryOutSize);
        return Enqueue(s);
    }

    private ulong Enqueue(FuseSlot s)
    {
        try
        {
            Publish(s);
        }
        catch
        {
            ReleaseSlot(s);
            throw;
        }
        _pipelined++;
        _kickPending = true;
        return s.Unique;
    }

    /// <summary>Notifies the backend of everything submitted since the last kick (TryReap does it too).</summary>
    public void Kick()
    {
        _kickPending = false;
        _queue.Kick();
    }

    /// <summary>
    /// Waits for the next completion of a pipelined request and copies up to <paramref name="replyBody"/>.Length bytes
    /// of its reply body (after out_header) there. False on timeout.
    /// </summary>
    public bool TryReap(TimeSpan timeout, out FuseCompletion completion, Span<byte> replyBody = default)
    {
        if (_pipelined == 0) throw new InvalidOperationException("nothing submitted");
        if (_kickPending) Kick();
        if (!_queue.WaitUsed(timeout, out ushort head, out uint used))
        {
            completion = default;
            return false;
        }
        var s = SlotOf(head);
        try
        {
            int errno = Validate(s, used, out int body);
            int copy = Math.Min(body, replyBody.Length);
            if (copy > 0) CopyReply(s, 0, replyBody[..copy]);
            completion = new FuseCompletion(s.Unique, s.Opcode, errno, body);
            return true;
        }
        finally
        {
            _pipelined--;
            ReleaseSlot(s);
        }
    }

    /// <summary>Reaps every outstanding request; throws on timeout. Returns the number of errors.</summary>
    public int ReapAll(TimeSpan timeout)
    {
        int errors = 0;
        while (_pipelined > 0)
        {
            if (!TryReap(timeout, out var c)) throw new TimeoutException($"{_pipelined} pipelined FUSE requests not completed within {timeout.TotalSeconds:0.#} s");
            if (c.Errno != 0) errors++;
        }
        return errors;
    }

    internal static int Utf8Length(string s) => Encoding.UTF8.GetByteCount(s);
}
