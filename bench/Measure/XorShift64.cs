namespace VirtioFs.Bench.Measure;

/// <summary>xorshift64: a cheap random number per call that allocates nothing. Keep it in a mutable field.</summary>
internal struct XorShift64(ulong seed)
{
    private ulong _state = seed == 0 ? 1 : seed;   // 0 would stay 0 forever

    public ulong Next()
    {
        ulong x = _state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        _state = x;
        return x;
    }
}
