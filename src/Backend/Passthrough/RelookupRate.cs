namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// How often a recent LOOKUP named an inode the table already knew: the guest re-validating a dentry whose entry
/// timeout ran out (cache=never: every access; cache=auto: after a second), which one statx by name can answer
/// without opening and closing a descriptor. A miss then costs that statx on top of the usual openat+statx, so the
/// by-name look is tried only while such lookups are common. An exponentially decaying share of the last ~16
/// lookups, updated by every queue thread without a lock: a lost update only shifts the guess a little.
/// </summary>
internal struct RelookupRate
{
    private const int Scale = 1024;

    /// <summary>
    /// The share of known inodes above which the by-name look pays: it saves an openat and a close (~0.8 µs on
    /// tmpfs) on a hit and costs a statx (~0.35 µs) on a miss, even at about 30%.
    /// </summary>
    private const int Threshold = Scale * 35 / 100;

    private int _score;

    public readonly bool Likely => Volatile.Read(in _score) >= Threshold;

    public void Record(bool known)
    {
        int score = Volatile.Read(ref _score);
        Volatile.Write(ref _score, known ? score + ((Scale - score) >> 4) : score - (score >> 4));
    }
}
