namespace VirtioFs.Bench.Workloads;

/// <summary>What a connected session looked up and opened once, through the synchronous client, for the workloads.</summary>
internal sealed record SessionSetup(
    ulong BigFileNode, ulong BigFileFh, long BigFileSize,
    ulong WriteFileNode, ulong WriteFileFh, long WriteFileSize,
    ulong ListDirNode, int ListDirEntries,
    ulong CreateDirNode,
    int TargetIndex);
