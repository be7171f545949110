namespace VirtioFs.Backend.VhostUser;

/// <summary>What runs on a started ring (for virtio-fs: a thread that serves FUSE requests).</summary>
public interface IRingWorker
{
    /// <summary>Stops processing and returns once the worker has published everything it consumed.</summary>
    void Stop();
}

/// <summary>Starts workers for rings; implemented by the share, which knows the device type.</summary>
public interface IRingWorkerFactory
{
    /// <summary>Starts serving <paramref name="ring"/>. <paramref name="device"/> gives the current guest memory.</summary>
    IRingWorker Start(Vring ring, VhostUserDevice device);

    /// <summary>The device was reset (RESET_DEVICE, RESET_OWNER, a new front-end): drop all guest-visible state.</summary>
    void ResetDeviceState();
}
