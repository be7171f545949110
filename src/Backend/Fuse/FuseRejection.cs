namespace VirtioFs.Backend.Fuse;

/// <summary>
/// Why a request was refused as malformed or hostile (see <see cref="IFuseLog.Rejected"/>): constant strings, so
/// refusing allocates nothing. None of these is ever sent by an honest Linux guest kernel.
/// </summary>
internal static class FuseRejection
{
    public const string LengthMismatch = "in_header.len does not match the length of the request's buffers";
    public const string ExtensionTooLong = "in_header.total_extlen is longer than the request";
    public const string HeaderTruncated = "the request is shorter than fuse_in_header";
    public const string NoRoomForHeader = "the reply buffer cannot even hold fuse_out_header";
    public const string ArgumentsTooLarge = "the arguments are larger than any operation takes";
    public const string ArgumentsUnreadable = "the arguments could not be read from the request's buffers";
    public const string BeforeInit = "a request before INIT";
    public const string TruncatedArguments = "the arguments are shorter than the operation's fixed part";
    public const string ReplyTooSmall = "the reply buffer is too small for the reply";
    public const string NameUnterminated = "a name without its NUL terminator";
    public const string NameEmpty = "an empty name";
    public const string NameTooLong = "a name longer than 255 bytes";
    public const string NameWithSlash = "a name with a '/' (a path, not one component)";
    public const string NameIsDots = "'.' or '..' as the name to create, remove or rename";
    public const string StringUnterminated = "a string argument without its NUL terminator";
    public const string StringTooLong = "a string argument longer than allowed (symlink target over 4095 bytes, xattr name over 255)";
    public const string XattrNameEmpty = "an empty extended-attribute name";
    public const string XattrValueTooLarge = "an extended-attribute value larger than 64 KiB";
    public const string XattrValueSizeMismatch = "fuse_setxattr_in.size does not match the value sent";
    public const string ReadTooLarge = "a READ larger than max_write or than its reply buffer";
    public const string WriteSizeMismatch = "fuse_write_in.size does not match the payload, or exceeds max_write";
    public const string DataOutsideBuffers = "the data does not lie inside the request's buffers";
    public const string InvalidLock = "a lock with an unknown type or a range fcntl cannot express";
    public const string OldProtocol = "a FUSE protocol version older than we speak";
    public const string UnknownId = "a node id or file handle never issued or already forgotten/released (EBADF), or a special file to open";
    public const string ForgetTruncated = "FORGET without its fuse_forget_in";
    public const string BatchForgetTruncated = "BATCH_FORGET with fewer entries than its count";
    public const string InterruptTruncated = "INTERRUPT without its fuse_interrupt_in";
}
