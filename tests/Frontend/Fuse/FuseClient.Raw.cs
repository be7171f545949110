using System.Buffers.Binary;

namespace VirtioFs.Frontend.Fuse;

// Raw requests for hostile tests: any bytes, any reply capacity, split over any number of descriptors.
public sealed partial class FuseClient
{
    /// <summary>
    /// Sends <paramref name="request"/> as the readable part and offers <paramref name="replyCapacity"/> writable bytes,
    /// each split into <paramref name="segments"/> descriptors. Throws <see cref="TimeoutException"/> if the backend
    /// does not return the chain within the client timeout.
    /// </summary>
    public FuseRawReply SendRaw(ReadOnlySpan<byte> request, int replyCapacity, int segments = 1)
        => TrySendRaw(request, replyCapacity, _options.Timeout, out var reply, segments)
            ? reply
            : throw new TimeoutException($"raw FUSE request ({request.Length} bytes): chain not returned within {_options.Timeout.TotalSeconds:0.#} s"
                + (_frontend.IsBackendConnected() ? "" : "; the backend closed the vhost-user socket"));

    /// <summary>As <see cref="SendRaw"/>, but false on timeout (the buffers then stay allocated: the backend may still write).</summary>
    public bool TrySendRaw(ReadOnlySpan<byte> request, int replyCapacity, TimeSpan timeout, out FuseRawReply reply, int segments = 1, bool? indirect = null)
    {
        if (_pipelined > 0) throw new InvalidOperationException("raw FUSE request while pipelined requests are in flight");
        if (segments < 1) throw new ArgumentOutOfRangeException(nameof(segments));
        if (request.Length == 0 && replyCapacity == 0) throw new ArgumentException("a chain needs at least one byte");
        ulong inGpa = _ram.Allocate((ulong)Math.Max(request.Length, 1), Page);
        ulong outGpa = _ram.Allocate((ulong)Math.Max(replyCapacity, 1), Page);
        _ram.Write(inGpa, request);

        var d = new List<(ulong, uint, bool)>();
        Split(d, inGpa, request.Length, segments, writable: false);
        Split(d, outGpa, replyCapacity, segments, writable: true);
        ushort head = _queue.AddChain(d.ToArray(), indirect ?? (_indirect && d.Count > 1));
        _queue.Kick();
        if (!_queue.WaitUsed(timeout, out ushort done, out uint used))
        {
            reply = new FuseRawReply(0, []);
            return false;
        }
        if (done != head) throw new FuseProtocolException($"raw request: completion for head {done}, expected {head}");
        int copy = (int)Math.Min(used, (uint)replyCapacity);
        reply = new FuseRawReply(used, _ram.ReadBytes(outGpa, copy));
        _ram.Free(inGpa);
        _ram.Free(outGpa);
        return true;
    }

    private static void Split(List<(ulong, uint, bool)> d, ulong gpa, int length, int segments, bool writable)
    {
        if (length == 0) return;
        int pieces = Math.Min(segments, length);
        int size = (length + pieces - 1) / pieces;
        for (int off = 0; off < length; off += size)
            d.Add((gpa + (ulong)off, (uint)Math.Min(size, length - off), writable));
    }

    /// <summary>Encodes a fuse_in_header (len, opcode, unique, nodeid, uid, gid, pid, total_extlen, padding) for raw requests.</summary>
    public static void WriteInHeader(Span<byte> destination, uint len, uint opcode, ulong unique, ulong nodeId,
        uint uid = 0, uint gid = 0, uint pid = 1, ushort totalExtlen = 0)
    {
        destination[..FuseConstants.InHeaderSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, len);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], unique);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], nodeId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], uid);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], gid);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[32..], pid);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[36..], totalExtlen);
    }

    /// <summary>Builds a whole request: header (len computed) + body.</summary>
    public static byte[] BuildRequest(FuseOpcode opcode, ulong unique, ulong nodeId, ReadOnlySpan<byte> body, uint? lenOverride = null)
    {
        byte[] r = new byte[FuseConstants.InHeaderSize + body.Length];
        WriteInHeader(r, lenOverride ?? (uint)r.Length, (uint)opcode, unique, nodeId);
        body.CopyTo(r.AsSpan(FuseConstants.InHeaderSize));
        return r;
    }

    /// <summary>A unique for raw requests that cannot collide with the client's own.</summary>
    public ulong NextUnique()
    {
        ulong u = _nextUnique;
        _nextUnique += 2;
        return u;
    }
}
