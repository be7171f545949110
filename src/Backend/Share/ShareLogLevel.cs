namespace VirtioFs.Backend.Share;

/// <summary>Severity of a share's log line; the names virtiofsd's --log-level takes.</summary>
public enum ShareLogLevel
{
    Error = 0,
    Warning = 1,
    Info = 2,
    Debug = 3,
}
