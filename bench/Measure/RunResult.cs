namespace VirtioFs.Bench.Measure;

/// <summary>One measured window of one workload on one target. Per-request figures are null where not observable.</summary>
internal sealed record RunResult(
    long Ops,
    double Seconds,
    long Bytes,
    double P50Micros,
    double P99Micros,
    long Errors,
    long Requests,
    long FrontendKicks,
    long FrontendInterrupts,
    double? DaemonKicksPerRequest,
    double? DaemonNotificationsPerRequest,
    double? AllocatedBytesPerRequest,
    double? DaemonP50Micros,
    double? DaemonCpuMicrosPerOp,
    double DriverCpuMicrosPerOp)
{
    public double OpsPerSecond => Ops / Seconds;
    public double MegabytesPerSecond => Bytes / Seconds / 1e6;
}
