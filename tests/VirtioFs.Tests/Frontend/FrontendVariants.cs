using Xunit;
using VirtioFs.Frontend;
using VirtioFs.Frontend.Fuse;

namespace VirtioFs.Tests.Frontend;

/// <summary>Frontend shapes every roundtrip runs under, so a backend sees the chain and memory layouts real guests produce.</summary>
public static class FrontendVariants
{
    public static readonly string[] Names =
        ["linux-indirect", "linux-direct", "compact", "set-mem-table", "three-regions-high-gpa", "no-event-idx-no-ack", "queue-128"];

    public static TheoryData<string> All()
    {
        var data = new TheoryData<string>();
        foreach (string n in Names) data.Add(n);
        return data;
    }

    public static (FrontendOptions, FuseClientOptions) Get(string name)
    {
        var f = new FrontendOptions();
        var c = new FuseClientOptions();
        switch (name)
        {
            case "linux-indirect": break;
            case "linux-direct": c.Indirect = false; break;
            case "compact": c.Shape = RequestShape.Compact; break;
            case "set-mem-table": f.AddMemRegWhenConfigurable = false; break;
            case "three-regions-high-gpa":
                f.MemorySize = 96UL << 20;
                f.MemoryRegions = 3;
                f.GuestPhysicalBase = 0x1_0000_0000;
                break;
            case "no-event-idx-no-ack": f.EventIdx = false; f.ReplyAck = false; f.IndirectDesc = false; break;
            case "queue-128": f.QueueSize = 128; c.MaxPayload = 256 * 1024; break;
            default: throw new ArgumentException(name);
        }
        return (f, c);
    }
}
