namespace VirtioFs.Frontend.VhostUser;

/// <summary>The backend broke the vhost-user protocol (bad reply, nack, wrong size) or went away during the handshake.</summary>
public sealed class VhostUserProtocolException(string message) : IOException(message);
