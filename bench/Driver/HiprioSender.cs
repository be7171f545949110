using System.Buffers.Binary;
using VirtioFs.Frontend;
using VirtioFs.Frontend.Fuse;
using VirtioFs.Frontend.Memory;
using VirtioFs.Frontend.Virtqueue;

namespace VirtioFs.Bench.Driver;

/// <summary>
/// FORGET on the hiprio queue, as virtio_fs.c sends it: one readable descriptor, no reply, buffers returned with used
/// length 0 and reaped lazily. Shared by the queue threads of one frontend, hence the lock (Linux has one too).
/// </summary>
internal sealed class HiprioSender
{
    private const int BufferSize = 64;
    private readonly object _gate = new();
    private readonly GuestRam _ram;
    private readonly VirtqueueDriver _queue;
    private readonly ulong[] _bufferOfHead;
    private ulong _nextUnique = 1UL << 62;

    public HiprioSender(VhostUserFrontend frontend)
    {
        _ram = frontend.Memory;
        _queue = frontend.Queue(0);
        _bufferOfHead = new ulong[_queue.Size];
        for (int i = 0; i < _bufferOfHead.Length; i++) _bufferOfHead[i] = _ram.Allocate(BufferSize, 64);
    }

    public long Sent { get; private set; }

    public void Forget(ulong nodeId, ulong nlookup)
    {
        lock (_gate)
        {
            ReapReturned();
            long deadline = Environment.TickCount64 + 10_000;
            while (_queue.FreeDescriptors == 0)
            {
                if (Environment.TickCount64 > deadline) throw new TimeoutException("hiprio queue full: no FORGET returned in 10 s");
                Thread.Yield();
                ReapReturned();
            }
            // A raw descriptor: its buffer must be written before the head is published (ReserveDescriptors allocates
            // a one-element array; the driver thread's own allocations are subtracted from the share's figure).
            ushort head = _queue.ReserveDescriptors(1)[0];
            ulong gpa = _bufferOfHead[head];
            Span<byte> b = _ram.GetSpan(gpa, FuseConstants.InHeaderSize + 8);
            b.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(b, FuseConstants.InHeaderSize + 8);
            BinaryPrimitives.WriteUInt32LittleEndian(b[4..], (uint)FuseOpcode.Forget);
            BinaryPrimitives.WriteUInt64LittleEndian(b[8..], _nextUnique);
            _nextUnique += 2;
            BinaryPrimitives.WriteUInt64LittleEndian(b[16..], nodeId);
            BinaryPrimitives.WriteUInt64LittleEndian(b[40..], nlookup);
            _queue.WriteDescriptor(head, gpa, FuseConstants.InHeaderSize + 8, 0, 0);
            _queue.PublishAvail(head);
            _queue.Kick();
            Sent++;
        }
    }

    private void ReapReturned()
    {
        Span<ushort> one = stackalloc ushort[1];
        while (_queue.TryTakeUsed(out ushort head, out _))
        {
            one[0] = head;
            _queue.ReturnDescriptors(one);
        }
    }
}
