namespace VirtioFs.Backend.Passthrough;

/// <summary>What a matching xattrmap rule does.</summary>
public enum XattrMapAction
{
    Prefix,
    Ok,
    Bad,
    Unsupported,
}
