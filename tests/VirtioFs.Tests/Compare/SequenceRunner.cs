using VirtioFs.Frontend.Fuse;
using static VirtioFs.Frontend.Fuse.FuseConstants;

namespace VirtioFs.Tests.Compare;

/// <summary>
/// Runs a <see cref="RequestSequence"/> through a <see cref="FuseClient"/> the way the Linux driver would issue it:
/// paths are resolved component by component with LOOKUP, names are looked up before UNLINK/RMDIR/RENAME (the kernel
/// always has the dentry first; the C virtiofsd even answers EIO for names it never handed out), files are opened
/// around READ/WRITE and released afterwards.
/// </summary>
public static class SequenceRunner
{
    public static List<StepOutcome> Run(FuseClient fuse, RequestSequence sequence)
        => sequence.Steps.Select(step => RunStep(fuse, step)).ToList();

    public static StepOutcome RunStep(FuseClient fuse, Step step)
    {
        switch (step.Kind)
        {
            case StepKind.Lookup:
            case StepKind.Getattr:
            {
                int e = Resolve(fuse, step.Path, out var entry);
                if (e != 0) return StepOutcome.Failed(e);
                if (step.Kind == StepKind.Getattr)
                {
                    e = fuse.Getattr(entry.NodeId, out var attr);
                    return e != 0 ? StepOutcome.Failed(e) : StepOutcome.FromAttr(attr);
                }
                return StepOutcome.FromAttr(entry.Attr);
            }
            case StepKind.LookupName:
            {
                int e = Resolve(fuse, step.Path, out var dir);
                if (e != 0) return StepOutcome.Failed(e);
                e = fuse.Lookup(dir.NodeId, step.Path2!, out var entry);
                return e != 0 ? StepOutcome.Failed(e) : StepOutcome.FromAttr(entry.Attr);
            }
            case StepKind.Readdir:
            case StepKind.ReaddirPlus:
            {
                int e = Resolve(fuse, step.Path, out var dir);
                if (e != 0) return StepOutcome.Failed(e);
                e = fuse.ReadDirectory(dir.NodeId, out var entries, plus: step.Kind == StepKind.ReaddirPlus, chunk: 1024);
                if (e != 0) return StepOutcome.Failed(e);
                var names = entries.Select(x => step.Kind == StepKind.ReaddirPlus && x.Entry is { NodeId: not 0 } en
                        ? $"{x.Name}:{FuseAttr.TypeName(en.Attr.Mode)}"
                        : x.Name)
                    .Order(StringComparer.Ordinal).ToArray();
                return new StepOutcome { Names = names };
            }
            case StepKind.Read:
            {
                int e = WithOpenFile(fuse, step.Path, O_RDONLY, (node, fh) =>
                {
                    int r = fuse.Read(node, fh, step.Offset, (uint)step.Size, out byte[] data);
                    return r != 0 ? StepOutcome.Failed(r) : new StepOutcome { Data = data };
                }, out var outcome);
                return e != 0 ? StepOutcome.Failed(e) : outcome!;
            }
            case StepKind.Write:
            {
                int e = WithOpenFile(fuse, step.Path, O_WRONLY, (node, fh) =>
                {
                    int r = fuse.Write(node, fh, step.Offset, step.Data, out uint written);
                    return r != 0 ? StepOutcome.Failed(r) : new StepOutcome { Count = written };
                }, out var outcome);
                return e != 0 ? StepOutcome.Failed(e) : outcome!;
            }
            case StepKind.Open:
            {
                int e = WithOpenFile(fuse, step.Path, step.Flags, (_, _) => new StepOutcome(), out var outcome);
                return e != 0 ? StepOutcome.Failed(e) : outcome!;
            }
            case StepKind.Readlink:
            {
                int e = Resolve(fuse, step.Path, out var entry);
                if (e != 0) return StepOutcome.Failed(e);
                e = fuse.Readlink(entry.NodeId, out string target);
                return e != 0 ? StepOutcome.Failed(e) : new StepOutcome { LinkTarget = target };
            }
            case StepKind.Truncate:
            case StepKind.Chmod:
            {
                int e = Resolve(fuse, step.Path, out var entry);
                if (e != 0) return StepOutcome.Failed(e);
                var input = step.Kind == StepKind.Truncate ? FuseSetattrIn.Truncate(step.Size) : FuseSetattrIn.Chmod(step.Mode);
                e = fuse.Setattr(entry.NodeId, input, out var attr);
                return e != 0 ? StepOutcome.Failed(e) : StepOutcome.FromAttr(attr);
            }
            case StepKind.Fallocate:
            {
                int e = WithOpenFile(fuse, step.Path, O_RDWR, (node, fh) =>
                {
                    int r = fuse.Fallocate(node, fh, step.Offset, step.Size);
                    return StepOutcome.Failed(r);
                }, out var outcome);
                return e != 0 ? StepOutcome.Failed(e) : outcome!;
            }
            case StepKind.Mkdir:
            case StepKind.Create:
            case StepKind.Symlink:
            case StepKind.Mknod:
            {
                int e = ResolveParent(fuse, step.Path, out ulong parent, out string name);
                if (e != 0) return StepOutcome.Failed(e);
                FuseEntry entry;
                switch (step.Kind)
                {
                    case StepKind.Mkdir: e = fuse.Mkdir(parent, name, step.Mode, out entry); break;
                    case StepKind.Symlink: e = fuse.Symlink(parent, name, step.Path2!, out entry); break;
                    case StepKind.Mknod: e = fuse.Mknod(parent, name, step.Mode, 0, out entry); break;
                    default:
                        e = fuse.Create(parent, name, step.Flags, step.Mode, out entry, out var open);
                        if (e == 0) fuse.Release(entry.NodeId, open.Fh);
                        break;
                }
                return e != 0 ? StepOutcome.Failed(e) : StepOutcome.FromAttr(entry.Attr);
            }
            case StepKind.Link:
            {
                int e = Resolve(fuse, step.Path, out var existing);
                if (e != 0) return StepOutcome.Failed(e);
                e = ResolveParent(fuse, step.Path2!, out ulong parent, out string name);
                if (e != 0) return StepOutcome.Failed(e);
                e = fuse.Link(existing.NodeId, parent, name, out var entry);
                return e != 0 ? StepOutcome.Failed(e) : StepOutcome.FromAttr(entry.Attr);
            }
            case StepKind.Unlink:
            case StepKind.Rmdir:
            {
                int e = ResolveParent(fuse, step.Path, out ulong parent, out string name);
                if (e == 0) e = fuse.Lookup(parent, name, out _); // the kernel's dentry
                if (e != 0) return StepOutcome.Failed(e);
                return StepOutcome.Failed(step.Kind == StepKind.Unlink ? fuse.Unlink(parent, name) : fuse.Rmdir(parent, name));
            }
            case StepKind.Rename:
            case StepKind.Rename2:
            {
                int e = ResolveParent(fuse, step.Path, out ulong from, out string fromName);
                if (e == 0) e = fuse.Lookup(from, fromName, out _);
                if (e != 0) return StepOutcome.Failed(e);
                e = ResolveParent(fuse, step.Path2!, out ulong to, out string toName);
                if (e != 0) return StepOutcome.Failed(e);
                fuse.Lookup(to, toName, out _); // a negative result is fine: the kernel keeps a negative dentry
                return StepOutcome.Failed(step.Kind == StepKind.Rename
                    ? fuse.Rename(from, fromName, to, toName)
                    : fuse.Rename2(from, fromName, to, toName, step.Flags));
            }
            case StepKind.Statfs:
            {
                int e = Resolve(fuse, step.Path, out var entry);
                if (e != 0) return StepOutcome.Failed(e);
                e = fuse.Statfs(entry.NodeId, out var st);
                // Block and inode counts move as other tests run; the geometry must not.
                return e != 0 ? StepOutcome.Failed(e) : new StepOutcome { Extra = $"bsize={st.Bsize} frsize={st.Frsize} namelen={st.Namelen}" };
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(step), step.Kind, null);
        }
    }

    private static int Resolve(FuseClient fuse, string path, out FuseEntry entry) => fuse.LookupPath(path, out entry);

    private static int ResolveParent(FuseClient fuse, string path, out ulong parent, out string name)
    {
        int slash = path.LastIndexOf('/');
        name = slash < 0 ? path : path[(slash + 1)..];
        parent = RootNodeId;
        if (slash < 0) return 0;
        int e = fuse.LookupPath(path[..slash], out var dir);
        parent = dir.NodeId;
        return e;
    }

    private static int WithOpenFile(FuseClient fuse, string path, uint flags, Func<ulong, ulong, StepOutcome> action, out StepOutcome? outcome)
    {
        outcome = null;
        int e = Resolve(fuse, path, out var entry);
        if (e != 0) return e;
        e = fuse.Open(entry.NodeId, flags, out var open);
        if (e != 0) return e;
        try
        {
            outcome = action(entry.NodeId, open.Fh);
            return 0;
        }
        finally
        {
            fuse.Flush(entry.NodeId, open.Fh);
            fuse.Release(entry.NodeId, open.Fh, flags);
        }
    }
}
