using System.Text;

namespace VirtioFs.Backend.Passthrough;

/// <summary>
/// virtiofsd's xattr name mapping (--xattrmap / -o xattrmap=), so the guest's security.* and trusted.* need not be
/// the host's. A mapping is a list of rules, each <c>&lt;sep&gt;type&lt;sep&gt;scope&lt;sep&gt;key&lt;sep&gt;prepend&lt;sep&gt;</c>
/// where the separator is the rule's first non-blank character; the first matching rule decides:
/// <list type="bullet">
/// <item>guest names (scope <c>client</c> or <c>all</c>) are matched by prefix against <c>key</c>: <c>prefix</c> sends
/// <c>prepend + name</c> to the host, <c>ok</c> sends the name unchanged, <c>bad</c> refuses with EPERM (GETXATTR:
/// ENODATA), <c>unsupported</c> refuses with EOPNOTSUPP;</item>
/// <item>host names in LISTXATTR (scope <c>server</c> or <c>all</c>) are matched by prefix against <c>prepend</c>:
/// <c>prefix</c> strips it, <c>ok</c> shows the name, <c>bad</c> and <c>unsupported</c> hide it;</item>
/// <item>a name no rule matches is refused (guest) or hidden (host);</item>
/// <item><c>&lt;sep&gt;map&lt;sep&gt;key&lt;sep&gt;prepend&lt;sep&gt;</c>, at most once and last, expands as virtiofsd does: prefix
/// <c>key</c> with <c>prepend</c>, hide the host's own unprefixed <c>key</c>* names, refuse the guest's raw
/// <c>prepend</c>* names (so the host-private namespace is never reachable directly: the CVE-2017-7493 lesson), and
/// pass everything else; with an empty key, every name is prefixed and unprefixed host names are hidden.</item>
/// </list>
/// </summary>
public sealed class XattrMap
{
    private const int EPERM = 1, EOPNOTSUPP = 95;

    private readonly XattrMapRule[] _rules;

    private XattrMap(XattrMapRule[] rules)
    {
        _rules = rules;
        // The host name the kernel's own killpriv removes under its guest name (CVE-2021-20263).
        Span<byte> buffer = stackalloc byte[512];
        CapabilityHostName = MapToHost("security.capability"u8, buffer, out int length) == 0 ? buffer[..length].ToArray() : null;
    }

    public IReadOnlyList<XattrMapRule> Rules => _rules;

    /// <summary>The host name of the guest's security.capability, or null when the guest cannot have one.</summary>
    public byte[]? CapabilityHostName { get; }

    /// <summary>Parses a rule list; throws <see cref="ArgumentException"/> naming the bad rule.</summary>
    public static XattrMap Parse(string rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var list = new List<XattrMapRule>();
        int position = 0;
        bool sawMap = false;
        while (true)
        {
            while (position < rules.Length && char.IsWhiteSpace(rules[position])) position++;
            if (position == rules.Length) break;
            if (sawMap) throw new ArgumentException($"xattrmap: the 'map' rule must be the last rule (more follows at offset {position}).");
            char separator = rules[position];
            int start = position;
            string type = ReadFields(rules, ref position, separator, count: 1)[0];
            if (type == "map")
            {
                string[] mapFields = ReadFields(rules, ref position, separator, count: 2);
                position++;   // the rule's closing separator
                AddMap(list, mapFields[0], mapFields[1]);
                sawMap = true;
                continue;
            }
            string[] fields = ReadFields(rules, ref position, separator, count: 3);
            position++;
            XattrMapAction action = type switch
            {
                "prefix" => XattrMapAction.Prefix,
                "ok" => XattrMapAction.Ok,
                "bad" => XattrMapAction.Bad,
                "unsupported" => XattrMapAction.Unsupported,
                _ => throw new ArgumentException($"xattrmap: unknown rule type '{type}' at offset {start}; use prefix, ok, bad, unsupported or map."),
            };
            (bool client, bool server) = fields[0] switch
            {
                "client" => (true, false),
                "server" => (false, true),
                "all" => (true, true),
                _ => throw new ArgumentException($"xattrmap: unknown scope '{fields[0]}' at offset {start}; use client, server or all."),
            };
            list.Add(new XattrMapRule(action, client, server, fields[1], fields[2]));
        }
        if (list.Count == 0) throw new ArgumentException("xattrmap: no rules.");
        return new XattrMap(list.ToArray());
    }

    // Reads `count` fields, each terminated by the separator; position starts on a separator and ends on the last one.
    private static string[] ReadFields(string text, ref int position, char separator, int count)
    {
        var fields = new string[count];
        for (int i = 0; i < count; i++)
        {
            if (position >= text.Length || text[position] != separator)
                throw new ArgumentException($"xattrmap: expected '{separator}' at offset {position}.");
            int end = text.IndexOf(separator, position + 1);
            if (end < 0) throw new ArgumentException($"xattrmap: rule starting before offset {position} is not terminated by '{separator}'.");
            fields[i] = text[(position + 1)..end];
            position = end;
        }
        return fields;
    }

    /// <summary>virtiofsd's expansion of the 'map' rule.</summary>
    private static void AddMap(List<XattrMapRule> list, string key, string prepend)
    {
        if (prepend.Length == 0) throw new ArgumentException("xattrmap: a 'map' rule needs a non-empty prefix to prepend.");
        list.Add(new XattrMapRule(XattrMapAction.Prefix, true, true, key, prepend));
        if (key.Length == 0)
        {
            list.Add(new XattrMapRule(XattrMapAction.Bad, true, true, "", ""));
            return;
        }
        list.Add(new XattrMapRule(XattrMapAction.Bad, false, true, "", key));
        list.Add(new XattrMapRule(XattrMapAction.Bad, true, false, prepend, ""));
        list.Add(new XattrMapRule(XattrMapAction.Ok, true, true, "", ""));
    }

    /// <summary>
    /// The host name for a guest name (no terminator in <paramref name="name"/>; a terminator is written after it).
    /// Returns 0, EPERM (bad, or no rule matched) or EOPNOTSUPP (unsupported); ERANGE when it does not fit.
    /// </summary>
    public int MapToHost(ReadOnlySpan<byte> name, Span<byte> hostName, out int length)
    {
        length = 0;
        foreach (XattrMapRule rule in _rules)
        {
            if (!rule.Client || !name.StartsWith(rule.KeyBytes)) continue;
            switch (rule.Action)
            {
                case XattrMapAction.Bad: return EPERM;
                case XattrMapAction.Unsupported: return EOPNOTSUPP;
                case XattrMapAction.Ok:
                    return Copy(ReadOnlySpan<byte>.Empty, name, hostName, out length);
                default:
                    return Copy(rule.PrependBytes, name, hostName, out length);
            }
        }
        return EPERM;
    }

    /// <summary>The guest's name for a host name in LISTXATTR, or false when the guest must not see it.</summary>
    public bool MapToGuest(ReadOnlySpan<byte> hostName, out ReadOnlySpan<byte> guestName)
    {
        guestName = default;
        foreach (XattrMapRule rule in _rules)
        {
            if (!rule.Server || !hostName.StartsWith(rule.PrependBytes)) continue;
            switch (rule.Action)
            {
                case XattrMapAction.Prefix:
                    guestName = hostName[rule.PrependBytes.Length..];
                    return guestName.Length > 0;
                case XattrMapAction.Ok:
                    guestName = hostName;
                    return true;
                default:
                    return false;
            }
        }
        return false;
    }

    private static int Copy(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> name, Span<byte> destination, out int length)
    {
        length = prefix.Length + name.Length;
        if (length + 1 > destination.Length || length > 255) return 34;   // ERANGE, as an over-long xattr name gets
        prefix.CopyTo(destination);
        name.CopyTo(destination[prefix.Length..]);
        destination[length] = 0;
        return 0;
    }
}
