namespace VirtioFs.Frontend.Fuse;

/// <summary>The backend's reply broke FUSE framing: wrong unique, out_header.len not matching the used length, bad errno.</summary>
public sealed class FuseProtocolException(string message) : IOException(message);
