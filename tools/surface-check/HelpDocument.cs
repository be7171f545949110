namespace VirtioFs.SurfaceCheck;

/// <summary>A parameter as documented: the yaml block under "### -Name" in the PlatyPS 1.0 schema.</summary>
internal sealed record DocumentedParameter(string Name, string Description, string TypeName, bool SupportsWildcards, IReadOnlyList<string> Aliases, IReadOnlyList<ParameterSetEntry> Sets);

/// <summary>
/// A cmdlet help file in the PlatyPS 1.0 markdown schema (PlatyPS schema version 2024-05-01): front matter,
/// "## SECTION" headings, "### sub" headings, fenced blocks. Headings inside code fences are not headings.
/// </summary>
internal sealed class HelpDocument
{
    private readonly Dictionary<string, List<(string Heading, string Body)>> _sections = new(StringComparer.Ordinal);

    public HelpDocument(string path)
    {
        Text = File.ReadAllText(path);
        string[] lines = Text.Replace("\r\n", "\n").Split('\n');
        int start = 0;
        if (lines.Length > 0 && lines[0] == "---")
        {
            int end = Array.IndexOf(lines, "---", 1);
            for (int i = 1; i < end; i++)
            {
                int colon = lines[i].IndexOf(':');
                if (colon > 0) FrontMatter[lines[i][..colon].Trim()] = lines[i][(colon + 1)..].Trim();
            }
            start = end + 1;
        }
        string? section = null, sub = null;
        var body = new List<string>();
        bool fenced = false;
        void Flush()
        {
            if (section is null) return;
            if (!_sections.TryGetValue(section, out var list)) _sections[section] = list = new();
            list.Add((sub ?? "", string.Join('\n', body).Trim()));
            body.Clear();
        }
        for (int i = start; i < lines.Length; i++)
        {
            string line = lines[i];
            if (line.StartsWith("```", StringComparison.Ordinal)) fenced = !fenced;
            if (!fenced && line.StartsWith("# ", StringComparison.Ordinal)) { Title = line[2..].Trim(); continue; }
            if (!fenced && line.StartsWith("## ", StringComparison.Ordinal)) { Flush(); section = line[3..].Trim(); sub = null; continue; }
            if (!fenced && line.StartsWith("### ", StringComparison.Ordinal)) { Flush(); sub = line[4..].Trim(); continue; }
            body.Add(line);
        }
        Flush();
    }

    public string Text { get; }

    public string? Title { get; }

    public Dictionary<string, string> FrontMatter { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<string> SectionOrder => _sections.Keys.ToList();

    /// <summary>The text directly under "## name" (before its first "###").</summary>
    public string Section(string name)
        => _sections.TryGetValue(name, out var list) ? string.Join("\n", list.Where(s => s.Heading.Length == 0).Select(s => s.Body)).Trim() : "";

    /// <summary>The "###" subsections of "## name".</summary>
    public IReadOnlyList<(string Heading, string Body)> Subsections(string name)
        => _sections.TryGetValue(name, out var list) ? list.Where(s => s.Heading.Length > 0).ToList() : new();

    public IReadOnlyList<DocumentedParameter> Parameters()
    {
        var result = new List<DocumentedParameter>();
        foreach ((string heading, string body) in Subsections("PARAMETERS"))
        {
            if (!heading.StartsWith('-')) continue;   // "### CommonParameters"
            int fence = body.IndexOf("```yaml", StringComparison.Ordinal);
            string description = fence < 0 ? body : body[..fence].Trim();
            string yaml = fence < 0 ? "" : body[(fence + 7)..body.IndexOf("```", fence + 7, StringComparison.Ordinal)];
            result.Add(ParseYaml(heading[1..], description, yaml));
        }
        return result;
    }

    private static DocumentedParameter ParseYaml(string name, string description, string yaml)
    {
        string type = "", listKey = "";
        bool wildcards = false;
        var aliases = new List<string>();
        var sets = new List<Dictionary<string, string>>();
        foreach (string raw in yaml.Split('\n'))
        {
            if (raw.Trim().Length == 0) continue;
            bool indented = raw.StartsWith(' ') || raw.StartsWith('-');
            string line = raw.Trim();
            if (!indented)
            {
                int colon = line.IndexOf(':');
                string key = line[..colon], value = line[(colon + 1)..].Trim();
                listKey = key;
                if (key == "Type") type = value;
                else if (key == "SupportsWildcards") wildcards = value == "true";
                continue;
            }
            bool item = line.StartsWith("- ", StringComparison.Ordinal);
            if (item) line = line[2..];
            if (listKey == "Aliases") { aliases.Add(line); continue; }
            if (listKey != "ParameterSets") continue;
            if (item) sets.Add(new Dictionary<string, string>());
            int c = line.IndexOf(':');
            if (c > 0 && sets.Count > 0) sets[^1][line[..c].Trim()] = line[(c + 1)..].Trim();
        }
        var entries = sets.Select(s => new ParameterSetEntry(
            s.GetValueOrDefault("Name") is "(All)" or null ? CommandSurface.AllSets : s["Name"],
            s.GetValueOrDefault("Position", "Named"),
            s.GetValueOrDefault("IsRequired") == "true",
            s.GetValueOrDefault("ValueFromPipeline") == "true",
            s.GetValueOrDefault("ValueFromPipelineByPropertyName") == "true")).ToList();
        return new DocumentedParameter(name, description, type, wildcards, aliases, entries);
    }
}
