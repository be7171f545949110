using System.Buffers.Binary;

namespace VirtioFs.Frontend.Fuse;

// FORGET and BATCH_FORGET: sent on the hiprio queue like virtio_fs.c's send_forget_request (one readable descriptor,
// no writable part). The backend gives the chain back with used length 0; those returns are reaped lazily.
public sealed partial class FuseClient
{
    /// <summary>Used lengths of the no-reply requests returned so far (should all be 0).</summary>
    public long ForgetsReturned { get; private set; }
    public uint LastForgetUsedLength { get; private set; }

    public int Forget(ulong nodeId, ulong nlookup)
    {
        Span<byte> body = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(body, nlookup);
        SendNoReply(FuseOpcode.Forget, nodeId, body);
        return 0;
    }

    public int BatchForget(ReadOnlySpan<(ulong nodeId, ulong nlookup)> forgets)
    {
        byte[] body = new byte[8 + 16 * forgets.Length]; // count, dummy, then fuse_forget_one[]
        BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)forgets.Length);
        for (int i = 0; i < forgets.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(8 + 16 * i), forgets[i].nodeId);
            BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(16 + 16 * i), forgets[i].nlookup);
        }
        SendNoReply(FuseOpcode.BatchForget, 0, body);
        return 0;
    }

    private void SendNoReply(FuseOpcode opcode, ulong nodeId, ReadOnlySpan<byte> args)
    {
        ReapForgets();
        if (_hiprio.FreeDescriptors == 0 && !WaitForgetsReturned(_options.Timeout))
            throw new TimeoutException($"hiprio queue full: the backend returned no FORGET within {_options.Timeout.TotalSeconds:0.#} s");

        // The head is the next free descriptor; its buffer is cached per head index.
        ushort[] reserved = _hiprio.ReserveDescriptors(1);
        ushort head = reserved[0];
        int length = FuseConstants.InHeaderSize + args.Length;
        if (_forgetCapacity[head] < length)
        {
            if (_forgetCapacity[head] != 0) _ram.Free(_forgetBuffer[head]);
            _forgetBuffer[head] = _ram.Allocate((ulong)Math.Max(length, 64), 64);
            _forgetCapacity[head] = Math.Max(length, 64);
        }
        var b = _ram.GetSpan(_forgetBuffer[head], (ulong)length);
        b.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], (uint)opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], _nextUnique);
        _nextUnique += 2;
        BinaryPrimitives.WriteUInt64LittleEndian(b[16..], nodeId);
        BinaryPrimitives.WriteUInt32LittleEndian(b[24..], _options.Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[28..], _options.Gid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[32..], _options.Pid);
        args.CopyTo(b[FuseConstants.InHeaderSize..]);
        _hiprio.WriteDescriptor(head, _forgetBuffer[head], (uint)length, 0, 0);
        _hiprio.PublishAvail(head);
        _hiprio.Kick();
    }

    private void OnForgetReturned(ushort head, uint length)
    {
        _hiprio.ReturnDescriptors([head]);
        ForgetsReturned++;
        LastForgetUsedLength = length;
    }

    /// <summary>Takes back whatever FORGET chains the backend has returned, without waiting.</summary>
    public void ReapForgets()
    {
        while (_hiprio.TryTakeUsed(out ushort head, out uint length)) OnForgetReturned(head, length);
    }

    /// <summary>Waits until the backend has returned every FORGET/BATCH_FORGET chain; false on timeout.</summary>
    public bool WaitForgetsReturned(TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (_hiprio.InFlight > 0)
        {
            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0) return false;
            if (!_hiprio.WaitUsed(TimeSpan.FromMilliseconds(remaining), out ushort head, out uint length)) return false;
            OnForgetReturned(head, length);
        }
        return true;
    }
}
