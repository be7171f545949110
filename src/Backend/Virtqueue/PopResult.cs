namespace VirtioFs.Backend.Virtqueue;

/// <summary>What <see cref="SplitQueue.TryPop"/> found.</summary>
public enum PopResult
{
    /// <summary>No buffers available (avail->idx equals NextAvail).</summary>
    Empty,

    /// <summary>A valid chain: the segment lists hold its readable and writable parts.</summary>
    Chain,

    /// <summary>
    /// The chain at the returned head is malformed (see <see cref="SplitQueue.LastChainError"/>). NextAvail has moved
    /// past it; the caller returns it with <c>AddUsed(head, 0)</c> and carries on with the next one.
    /// </summary>
    BadChain,

    /// <summary>
    /// The ring itself is inconsistent (avail->idx claims more buffers than the queue holds, or a head index is out of
    /// range), so nothing can be returned to the driver. NextAvail is unchanged; the caller stops the queue and reports
    /// the device as broken.
    /// </summary>
    BrokenRing,
}
