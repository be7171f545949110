using System.Xml.Linq;

namespace VirtioFs.SurfaceCheck;

/// <summary>A view of VirtioFs.format.ps1xml: the type it is for and the properties it names.</summary>
internal sealed record FormatView(string Name, IReadOnlyList<string> TypeNames, IReadOnlyList<string> PropertyNames)
{
    public static IReadOnlyList<FormatView> Read(string path)
        => XDocument.Load(path).Descendants("View").Select(v => new FormatView(
            (string?)v.Element("Name") ?? "",
            v.Element("ViewSelectedBy")?.Elements("TypeName").Select(t => t.Value.Trim()).ToList() ?? new List<string>(),
            v.Descendants("PropertyName").Select(p => p.Value.Trim()).ToList())).ToList();
}
