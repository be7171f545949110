using VirtioFs.Backend.Interop;
using VirtioFs.Backend.Memory;
using VirtioFs.Backend.VhostUser.Messages;
using VirtioFs.Backend.Virtqueue;

namespace VirtioFs.Backend.VhostUser;

// Ring setup and the ring state machine (vhost-user.rst "Ring states"): a ring is started by a kick fd and stopped by
// GET_VRING_BASE; with PROTOCOL_FEATURES it must also be enabled. A worker runs exactly while a ring is started and
// enabled, so the connection thread never changes a ring a worker is using.
public sealed partial class VhostUserDevice
{
    /// <summary>Bit 8 of SET_VRING_KICK/CALL/ERR: no fd attached (polling). Bits 0-7: the ring index.</summary>
    private const ulong NoFdFlag = 0x100;

    private Vring RingAt(uint index, VhostUserRequest request)
    {
        if (index >= (uint)_rings.Length)
            throw new VhostUserProtocolException($"{request} for ring {index}; this device has {_rings.Length} rings (1 hiprio + {_options.RequestQueues} request)");
        return _rings[index];
    }

    private void SetVringNum(VhostUserMessage message)
    {
        message.ExpectFds(0);
        VringState state = message.ReadExact<VringState>();
        Vring ring = RingAt(state.Index, VhostUserRequest.SetVringNum);
        RequireStopped(ring, VhostUserRequest.SetVringNum);
        try
        {
            ring.Queue.SetSize(state.Num);
        }
        catch (VirtqueueException e)
        {
            throw new VhostUserProtocolException($"SET_VRING_NUM for ring {state.Index}: {e.Message}", e);
        }
        ring.SizeSet = true;
    }

    private void SetVringAddr(VhostUserMessage message)
    {
        message.ExpectFds(0);
        VringAddress address = message.ReadExact<VringAddress>();
        Vring ring = RingAt(address.Index, VhostUserRequest.SetVringAddr);
        RequireStopped(ring, VhostUserRequest.SetVringAddr);
        ring.Queue.SetRingAddresses(address.DescUserAddr, address.UsedUserAddr, address.AvailUserAddr, address.LogGuestAddr, address.Flags);
        ring.AddressesSet = true;
    }

    private void SetVringBase(VhostUserMessage message)
    {
        message.ExpectFds(0);
        VringState state = message.ReadExact<VringState>();
        Vring ring = RingAt(state.Index, VhostUserRequest.SetVringBase);
        RequireStopped(ring, VhostUserRequest.SetVringBase);
        if (state.Num > ushort.MaxValue)
            throw new VhostUserProtocolException($"SET_VRING_BASE for ring {state.Index}: {state.Num} is not a split-ring index");
        ring.Queue.NextAvail = (ushort)state.Num;
    }

    private VringState GetVringBase(VhostUserMessage message)
    {
        message.ExpectFds(0);
        VringState state = message.ReadExact<VringState>();
        Vring ring = RingAt(state.Index, VhostUserRequest.GetVringBase);
        StopRing(ring);
        // A stopped ring needs a new kick to start again; its call fd goes too (as libvhost-user does).
        ring.Reset(keepConfiguration: true);
        return new VringState { Index = state.Index, Num = ring.Queue.NextAvail };
    }

    private void SetVringKick(VhostUserMessage message)
    {
        (Vring ring, SafeFd? fd) = ReadRingFd(message, VhostUserRequest.SetVringKick);
        StopRing(ring);
        ring.ReplaceKick(fd);
        if (fd is null) _log.Warning($"vhost-user: ring {ring.Index} has no kick fd; polling mode is not supported, the ring stays idle");
        TryStartRing(ring);
    }

    private void SetVringCall(VhostUserMessage message)
    {
        (Vring ring, SafeFd? fd) = ReadRingFd(message, VhostUserRequest.SetVringCall);
        ring.ReplaceCall(fd);   // a running worker picks the new fd up at its next notification
    }

    private void SetVringErr(VhostUserMessage message)
    {
        (Vring ring, SafeFd? fd) = ReadRingFd(message, VhostUserRequest.SetVringErr);
        ring.ReplaceErr(fd);
    }

    private void SetVringEnable(VhostUserMessage message)
    {
        message.ExpectFds(0);
        VringState state = message.ReadExact<VringState>();
        Vring ring = RingAt(state.Index, VhostUserRequest.SetVringEnable);
        if (state.Num > 1)
            throw new VhostUserProtocolException($"SET_VRING_ENABLE for ring {state.Index} with {state.Num}; 0 or 1 expected");
        if ((_features & VirtioFeatures.ProtocolFeatures) == 0 && _featuresSet)
            throw new VhostUserProtocolException("SET_VRING_ENABLE without negotiating VHOST_USER_F_PROTOCOL_FEATURES");
        if (state.Num == 0)
        {
            StopRing(ring);
            ring.Enabled = false;
        }
        else
        {
            ring.Enabled = true;
            TryStartRing(ring);
        }
    }

    private (Vring Ring, SafeFd? Fd) ReadRingFd(VhostUserMessage message, VhostUserRequest request)
    {
        ulong value = message.ReadExact<ulong>();
        if ((value & ~(NoFdFlag | 0xFF)) != 0)
            throw new VhostUserProtocolException($"{request} payload 0x{value:x} has reserved bits set");
        Vring ring = RingAt((uint)(value & 0xFF), request);
        bool noFd = (value & NoFdFlag) != 0;
        message.ExpectFds(noFd ? 0 : 1);
        return (ring, noFd ? null : message.TakeFd(0));
    }

    private void RequireStopped(Vring ring, VhostUserRequest request)
    {
        if (_running[ring.Index] is not null)
            throw new VhostUserProtocolException($"{request} for ring {ring.Index} while it is running; stop it with GET_VRING_BASE first");
    }

    private void TryStartRing(Vring ring)
    {
        if (_running[ring.Index] is not null || ring.Kick is null || !ring.Enabled || !ring.SizeSet || !ring.AddressesSet)
            return;
        GuestMemory? memory = AcquireMemory();
        if (memory is null) throw new VhostUserProtocolException($"ring {ring.Index} started before SET_MEM_TABLE");
        try
        {
            // Translate the ring addresses now, so a bad SET_VRING_ADDR ends the connection with a clear message.
            // The queue holds no reference: its worker re-checks the memory table at the start of every batch.
            ring.Queue.Attach(memory);
        }
        catch (VirtqueueException e)
        {
            throw new VhostUserProtocolException($"ring {ring.Index} cannot start: {e.Message}", e);
        }
        finally
        {
            memory.Release();
        }
        _running[ring.Index] = _workers.Start(ring, this);
        _log.Debug($"vhost-user: ring {ring.Index} started (size {ring.Queue.Size}, next avail {ring.Queue.NextAvail})");
    }

    private void StopRing(Vring ring)
    {
        IRingWorker? worker = _running[ring.Index];
        if (worker is null) return;
        _running[ring.Index] = null;
        worker.Stop();
        ring.Queue.Detach();
        _log.Debug($"vhost-user: ring {ring.Index} stopped at avail {ring.Queue.NextAvail}");
    }

    private void StopAllRings()
    {
        foreach (Vring ring in _rings) StopRing(ring);
    }
}
