using System.Runtime.InteropServices;
using VirtioFs.Backend.Memory;

namespace VirtioFs.Backend.Fuse;

/// <summary>
/// What one serving thread owns: preallocated scratch memory, so a request allocates nothing, and the facts about
/// the last request it handled, which the queue reads for its statistics. Not thread-safe: one worker per thread.
/// </summary>
public sealed unsafe class FuseWorker : IDisposable
{
    /// <summary>Request arguments are copied here (largest: SETXATTR with a 64 KiB value); READDIR output is staged here.</summary>
    internal const int ScratchSize = (1 << 20) + (64 << 10);

    /// <summary>Handed to the file system for its own staging (getdents64 records, link targets).</summary>
    internal const int FileSystemScratchSize = 64 << 10;

    private byte* _scratch;
    private byte* _fsScratch;
    private IoSegment[] _dataSegments = new IoSegment[64];

    public FuseWorker()
    {
        _scratch = (byte*)NativeMemory.AlignedAlloc(ScratchSize, 64);
        _fsScratch = (byte*)NativeMemory.AlignedAlloc(FileSystemScratchSize, 64);
    }

    /// <summary>
    /// A worker for the calling thread. With <paramref name="dedicatedThread"/> (the thread serves requests until it
    /// ends, and is ours: a queue thread, a /dev/fuse thread), the thread also gets its own umask of 0 and drops its
    /// inherited supplementary groups (<see cref="ServingThread.PrepareDedicated"/>), as virtiofsd does for its process.
    /// </summary>
    public FuseWorker(bool dedicatedThread) : this()
    {
        if (dedicatedThread) ServingThread.PrepareDedicated();
    }

    /// <summary>
    /// Set by a transport that can answer requests later (see <see cref="IFuseDeferredReplies"/>). Null (the default):
    /// every request is answered inside HandleRequest, and a SETLKW that would have to wait answers EOPNOTSUPP, as
    /// the C virtiofsd always does.
    /// </summary>
    public IFuseDeferredReplies? DeferredReplies { get; set; }

    /// <summary>The opcode of the last request (0 when it was too short to have one).</summary>
    public uint LastOpcode { get; internal set; }

    /// <summary>The errno the last request was answered with: positive, or 0 for success.</summary>
    public int LastError { get; internal set; }

    /// <summary>File bytes the last READ sent to the guest.</summary>
    public long LastDataRead { get; internal set; }

    /// <summary>File bytes the last WRITE wrote.</summary>
    public long LastDataWritten { get; internal set; }

    internal Span<byte> Scratch
    {
        get
        {
            ObjectDisposedException.ThrowIf(_scratch == null, this);
            return new Span<byte>(_scratch, ScratchSize);
        }
    }

    internal Span<byte> FileSystemScratch => new(_fsScratch, FileSystemScratchSize);

    /// <summary>A segment array with room for at least <paramref name="count"/> entries (grows rarely, never shrinks).</summary>
    internal Span<IoSegment> DataSegments(int count)
    {
        if (_dataSegments.Length < count) _dataSegments = new IoSegment[Math.Max(count, _dataSegments.Length * 2)];
        return _dataSegments;
    }

    internal void BeginRequest()
    {
        LastOpcode = 0;
        LastError = 0;
        LastDataRead = 0;
        LastDataWritten = 0;
    }

    public void Dispose()
    {
        if (_scratch != null)
        {
            NativeMemory.AlignedFree(_scratch);
            _scratch = null;
        }
        if (_fsScratch != null)
        {
            NativeMemory.AlignedFree(_fsScratch);
            _fsScratch = null;
        }
    }
}
