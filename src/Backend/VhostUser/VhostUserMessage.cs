using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VirtioFs.Backend.Interop;

namespace VirtioFs.Backend.VhostUser;

/// <summary>
/// One received message: header, payload and the file descriptors that came with it. Reused for every message of a
/// connection. Descriptors the handler does not take are closed by <see cref="CloseUntakenFds"/>, so a front-end that
/// attaches stray fds (REM_MEM_REG does, legitimately) cannot make us leak them.
/// </summary>
public sealed class VhostUserMessage
{
    private readonly int[] _fds = new int[VhostUserHeader.MaxFds];

    public VhostUserHeader Header;

    public byte[] Payload { get; } = new byte[VhostUserHeader.MaxPayload];

    public int PayloadLength => (int)Header.PayloadSize;

    public int FdCount { get; private set; }

    public ReadOnlySpan<byte> PayloadSpan => Payload.AsSpan(0, PayloadLength);

    internal Span<int> FdSlots => _fds;

    internal void SetFdCount(int count) => FdCount = count;

    /// <summary>Reads the payload as <typeparamref name="T"/>, which must be exactly the payload size.</summary>
    public T ReadExact<T>() where T : unmanaged
    {
        if (PayloadLength != Unsafe.SizeOf<T>())
            throw new VhostUserProtocolException(
                $"{Header.Request} carries {PayloadLength} payload bytes; {Unsafe.SizeOf<T>()} expected");
        return MemoryMarshal.Read<T>(Payload);
    }

    /// <summary>Reads a <typeparamref name="T"/> at <paramref name="offset"/> after checking it lies inside the payload.</summary>
    public T ReadAt<T>(int offset) where T : unmanaged
    {
        if (offset < 0 || offset > PayloadLength - Unsafe.SizeOf<T>())
            throw new VhostUserProtocolException(
                $"{Header.Request} payload of {PayloadLength} bytes is too short for a field at offset {offset}");
        return MemoryMarshal.Read<T>(Payload.AsSpan(offset));
    }

    /// <summary>Checks the number of attached descriptors.</summary>
    public void ExpectFds(int count)
    {
        if (FdCount != count)
            throw new VhostUserProtocolException($"{Header.Request} came with {FdCount} file descriptors; {count} expected");
    }

    /// <summary>Transfers ownership of descriptor <paramref name="index"/> to the caller.</summary>
    public SafeFd TakeFd(int index)
    {
        if ((uint)index >= (uint)FdCount || _fds[index] < 0)
            throw new VhostUserProtocolException($"{Header.Request}: file descriptor {index} is missing");
        var fd = new SafeFd(_fds[index]);
        _fds[index] = -1;
        return fd;
    }

    /// <summary>Closes every descriptor the handler did not take.</summary>
    public void CloseUntakenFds()
    {
        for (int i = 0; i < FdCount; i++)
        {
            if (_fds[i] >= 0) Libc.close(_fds[i]);
            _fds[i] = -1;
        }
        FdCount = 0;
    }
}
