using System.Text;

namespace VirtioFs.Backend.Passthrough;

/// <summary>One xattrmap rule: the action, whether it applies to guest names and/or host names, the key and the prefix.</summary>
public sealed class XattrMapRule
{
    public XattrMapRule(XattrMapAction action, bool client, bool server, string key, string prepend)
    {
        Action = action;
        Client = client;
        Server = server;
        Key = key;
        Prepend = prepend;
        KeyBytes = Encoding.UTF8.GetBytes(key);
        PrependBytes = Encoding.UTF8.GetBytes(prepend);
    }

    public XattrMapAction Action { get; }
    public bool Client { get; }
    public bool Server { get; }
    public string Key { get; }
    public string Prepend { get; }
    internal byte[] KeyBytes { get; }
    internal byte[] PrependBytes { get; }
}
