namespace VirtioFs.Cmdlets;

/// <summary>
/// The ErrorIds scripts can catch (FullyQualifiedErrorId is "ErrorId,VirtioFs.Cmdlets.XxxCommand"). One per meaning:
/// a new meaning gets a new id, and a message is never an id. QEMU configuration problems use the names of
/// <see cref="VirtioFs.Backend.Qemu.QemuConfigurationProblem"/> (InvalidTag, InvalidQueueSize, ...).
/// </summary>
internal static class ErrorIds
{
    public const string ShareNotFound = nameof(ShareNotFound);
    public const string ShareNameInUse = nameof(ShareNameInUse);
    public const string ShareTagInUse = nameof(ShareTagInUse);
    public const string SocketPathInUse = nameof(SocketPathInUse);
    public const string SharedDirectoryNotFound = nameof(SharedDirectoryNotFound);
    public const string InvalidTag = nameof(InvalidTag);
    public const string InvalidShareName = nameof(InvalidShareName);
    public const string InvalidShareOption = nameof(InvalidShareOption);
    public const string SocketAccessDenied = nameof(SocketAccessDenied);
    public const string ShareStartFailed = nameof(ShareStartFailed);
    public const string ShareFailed = nameof(ShareFailed);
    public const string ShareLogError = nameof(ShareLogError);
    public const string VhostUserProtocolViolation = nameof(VhostUserProtocolViolation);
    public const string FrontendConnectionFailed = nameof(FrontendConnectionFailed);
    public const string ShareHasNoTag = nameof(ShareHasNoTag);
}
