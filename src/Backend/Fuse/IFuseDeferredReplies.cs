namespace VirtioFs.Backend.Fuse;

/// <summary>
/// Implemented by a transport (a virtqueue thread, the /dev/fuse channel) that can answer a request later than the
/// <see cref="FuseServer.HandleRequest"/> call that received it. The server defers only requests that would otherwise
/// block the serving thread (a SETLKW on a held lock); everything else is answered in place.
/// </summary>
public interface IFuseDeferredReplies
{
    /// <summary>
    /// Called on the serving thread, inside HandleRequest, for the request being handled: the transport takes it over
    /// (keeping whatever it needs to answer it later: the chain's head, its reply buffers, the guest memory they lie
    /// in) and returns a token for it. HandleRequest then returns <see cref="FuseServer.DeferredReply"/>, and the
    /// transport must not complete or reuse that request's reply buffers until <see cref="Complete"/>.
    /// </summary>
    object Defer();

    /// <summary>
    /// Called exactly once per token, from any thread (a lock waiter), with the complete reply (fuse_out_header and
    /// body): the transport delivers it and drops what Defer kept. Must not block; must tolerate a transport that
    /// was stopped meanwhile (drop the reply).
    /// </summary>
    void Complete(object token, ReadOnlySpan<byte> reply);
}
