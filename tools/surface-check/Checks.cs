using System.Reflection;

namespace VirtioFs.SurfaceCheck;

/// <summary>The checks, one PASS/FAIL line each. Every message names what to fix.</summary>
internal static class Checks
{
    private static readonly string[] Placeholders = { "{{", "Fill in", "TODO", "TBD" };

    public static void Manifest(Report report, Manifest manifest, string moduleDir, Assembly module)
    {
        var problems = new List<string>();
        if (manifest.Scalar("RootModule") != "VirtioFs.dll") problems.Add("RootModule is not 'VirtioFs.dll'");
        if (manifest.Scalar("PowerShellVersion") != "7.4") problems.Add("PowerShellVersion is not '7.4' (the assembly targets net8.0)");
        if (manifest.List("CompatiblePSEditions") is not { } editions || !editions.SequenceEqual(new[] { "Core" })) problems.Add("CompatiblePSEditions is not @('Core')");
        foreach (string key in new[] { "FunctionsToExport", "VariablesToExport", "AliasesToExport" })
        {
            if (manifest.List(key) is not { Count: 0 }) problems.Add($"{key} is not @() (never '*')");
        }
        foreach (string file in manifest.List("FormatsToProcess") ?? new List<string>())
        {
            if (!File.Exists(Path.Combine(moduleDir, file))) problems.Add($"FormatsToProcess names {file}, which is not staged");
        }
        string version = module.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "";
        if (manifest.Scalar("ModuleVersion") != version) problems.Add($"ModuleVersion '{manifest.Scalar("ModuleVersion")}' differs from the assembly version {version} (Directory.Build.props VersionPrefix)");
        report.Check("surface manifest", problems, $"RootModule VirtioFs.dll, version {version}");
    }

    public static void Exports(Report report, Manifest manifest, IReadOnlyList<CommandSurface> commands)
    {
        var exported = manifest.List("CmdletsToExport") ?? new List<string>();
        var problems = new List<string>();
        foreach (string name in exported.Where(e => commands.All(c => c.Name != e))) problems.Add($"CmdletsToExport names {name}, which VirtioFs.dll does not define");
        foreach (CommandSurface c in commands.Where(c => !exported.Contains(c.Name))) problems.Add($"{c.Name} is defined but not in CmdletsToExport");
        report.Check("surface exports", problems, $"{exported.Count} cmdlets: {string.Join(", ", exported)}");
    }

    public static void CommandHelp(Report report, CommandSurface command, string docsDir)
    {
        string name = $"surface docs {command.Name}";
        string path = Path.Combine(docsDir, command.Name + ".md");
        if (!File.Exists(path))
        {
            report.Check(name, new[] { $"{path} is missing" });
            return;
        }
        var doc = new HelpDocument(path);
        var problems = new List<string>();
        Expect(problems, doc.FrontMatter, "document type", "cmdlet");
        Expect(problems, doc.FrontMatter, "Module Name", "VirtioFs");
        Expect(problems, doc.FrontMatter, "Locale", "en-US");
        Expect(problems, doc.FrontMatter, "PlatyPS schema version", "2024-05-01");
        Expect(problems, doc.FrontMatter, "title", command.Name);
        if (doc.Title != command.Name) problems.Add($"the title is '{doc.Title}', not '# {command.Name}'");
        var order = new[] { "SYNOPSIS", "SYNTAX", "ALIASES", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS", "NOTES", "RELATED LINKS" };
        if (!doc.SectionOrder.SequenceEqual(order)) problems.Add($"sections are {string.Join(", ", doc.SectionOrder)}; PlatyPS 1.0 wants {string.Join(", ", order)}");
        if (doc.Section("SYNOPSIS").Length < 10) problems.Add("SYNOPSIS is empty");
        if (doc.Section("DESCRIPTION").Length < 40) problems.Add("DESCRIPTION is too short to say anything");
        var examples = doc.Subsections("EXAMPLES");
        if (examples.Count == 0) problems.Add("no examples");
        foreach (var (heading, body) in examples)
        {
            if (!heading.StartsWith("Example ", StringComparison.Ordinal)) problems.Add($"example heading '{heading}' does not start with 'Example N:'");
            if (!body.Contains("```powershell", StringComparison.Ordinal)) problems.Add($"'{heading}' has no powershell code block");
        }
        foreach (string placeholder in Placeholders.Where(p => doc.Text.Contains(p, StringComparison.Ordinal))) problems.Add($"contains the placeholder '{placeholder}'");

        CheckSyntax(problems, command, doc);
        CheckParameters(problems, command, doc);
        if (!doc.Subsections("PARAMETERS").Any(s => s.Heading == "CommonParameters")) problems.Add("no '### CommonParameters'");
        var outputs = doc.Subsections("OUTPUTS").Select(s => s.Heading).ToList();
        if (!outputs.OrderBy(o => o).SequenceEqual(command.OutputTypes.OrderBy(o => o)))
            problems.Add($"OUTPUTS lists {string.Join(", ", outputs)} but [OutputType] says {string.Join(", ", command.OutputTypes)}");
        if (doc.Subsections("INPUTS").Count == 0) problems.Add("INPUTS lists nothing (write '### None' when nothing binds from the pipeline)");
        if (!doc.Section("RELATED LINKS").Contains("](", StringComparison.Ordinal)) problems.Add("RELATED LINKS has no link");
        report.Check(name, problems, $"{command.Parameters.Count} parameters, {examples.Count} examples");
    }

    private static void CheckSyntax(List<string> problems, CommandSurface command, HelpDocument doc)
    {
        var declared = command.Parameters.SelectMany(p => p.Sets).Select(s => s.SetName).Where(s => s != CommandSurface.AllSets).Distinct().OrderBy(s => s).ToList();
        if (declared.Count == 0) declared.Add(CommandSurface.AllSets);
        var documented = doc.Subsections("SYNTAX").Select(s => s.Heading.Replace(" (Default)", "", StringComparison.Ordinal)).OrderBy(s => s).ToList();
        if (!declared.SequenceEqual(documented)) problems.Add($"SYNTAX documents sets {string.Join(", ", documented)} but the cmdlet has {string.Join(", ", declared)}");
        foreach (var (heading, body) in doc.Subsections("SYNTAX"))
        {
            if (!body.Contains(command.Name + " ", StringComparison.Ordinal)) problems.Add($"SYNTAX '{heading}' does not show {command.Name}");
        }
    }

    private static void CheckParameters(List<string> problems, CommandSurface command, HelpDocument doc)
    {
        var documented = doc.Parameters();
        var expected = command.Parameters.Select(p => p.Name).ToList();
        if (command.SupportsShouldProcess) expected.AddRange(new[] { "Confirm", "WhatIf" });
        foreach (string missing in expected.Where(e => documented.All(d => d.Name != e))) problems.Add($"parameter -{missing} is not documented");
        foreach (DocumentedParameter extra in documented.Where(d => !expected.Contains(d.Name))) problems.Add($"-{extra.Name} is documented but the cmdlet has no such parameter");
        var sorted = documented.Select(d => d.Name).ToList();
        if (!sorted.SequenceEqual(sorted.OrderBy(n => n, StringComparer.Ordinal))) problems.Add("parameters are not in alphabetical order (PlatyPS order)");
        foreach (DocumentedParameter d in documented)
        {
            if (d.Description.Length < 10) problems.Add($"-{d.Name} has no description");
            if (d.Name is "WhatIf" or "Confirm")
            {
                if (d.TypeName != "System.Management.Automation.SwitchParameter") problems.Add($"-{d.Name} should be a SwitchParameter");
                continue;
            }
            ParameterSurface? actual = command.Parameters.FirstOrDefault(p => p.Name == d.Name);
            if (actual is null) continue;
            if (d.TypeName != actual.TypeName) problems.Add($"-{d.Name} is documented as {d.TypeName} but is {actual.TypeName}");
            if (d.SupportsWildcards != actual.SupportsWildcards) problems.Add($"-{d.Name} SupportsWildcards should be {actual.SupportsWildcards.ToString().ToLowerInvariant()}");
            if (!d.Aliases.OrderBy(a => a).SequenceEqual(actual.Aliases.OrderBy(a => a))) problems.Add($"-{d.Name} aliases should be [{string.Join(", ", actual.Aliases)}]");
            var docSets = d.Sets.OrderBy(s => s.SetName).ToList();
            var realSets = actual.Sets.OrderBy(s => s.SetName).ToList();
            if (!docSets.SequenceEqual(realSets))
                problems.Add($"-{d.Name} ParameterSets should be {string.Join(" | ", realSets.Select(Describe))}, documented {string.Join(" | ", docSets.Select(Describe))}");
        }
    }

    private static string Describe(ParameterSetEntry s)
        => $"{(s.SetName == CommandSurface.AllSets ? "(All)" : s.SetName)} pos {s.Position} req {s.IsRequired} pipe {s.ValueFromPipeline} byname {s.ValueFromPipelineByPropertyName}";

    private static void Expect(List<string> problems, Dictionary<string, string> frontMatter, string key, string value)
    {
        if (frontMatter.GetValueOrDefault(key) != value) problems.Add($"front matter '{key}' should be '{value}'");
    }

    public static void NothingExtraDocumented(Report report, IReadOnlyList<CommandSurface> commands, string docsDir)
    {
        var problems = Directory.GetFiles(docsDir, "*.md")
            .Select(Path.GetFileNameWithoutExtension)
            .Where(n => n != "VirtioFs" && commands.All(c => c.Name != n))
            .Select(n => $"{n}.md documents a cmdlet VirtioFs.dll does not define")
            .ToList();
        report.Check("surface docs nothing extra", problems);
    }

    public static void ModulePage(Report report, IReadOnlyList<CommandSurface> commands, string docsDir)
    {
        string path = Path.Combine(docsDir, "VirtioFs.md");
        if (!File.Exists(path))
        {
            report.Check("surface docs module page", new[] { "docs/en-US/VirtioFs.md is missing" });
            return;
        }
        var doc = new HelpDocument(path);
        var problems = new List<string>();
        Expect(problems, doc.FrontMatter, "document type", "module");
        Expect(problems, doc.FrontMatter, "Module Name", "VirtioFs");
        Expect(problems, doc.FrontMatter, "title", "VirtioFs Module");
        if (!doc.FrontMatter.ContainsKey("Module Guid")) problems.Add("front matter has no 'Module Guid'");
        foreach (CommandSurface c in commands)
        {
            if (!doc.Text.Contains($"### [{c.Name}]({c.Name}.md)", StringComparison.Ordinal)) problems.Add($"does not list ### [{c.Name}]({c.Name}.md)");
        }
        foreach (string placeholder in Placeholders.Where(p => doc.Text.Contains(p, StringComparison.Ordinal))) problems.Add($"contains the placeholder '{placeholder}'");
        report.Check("surface docs module page", problems);
    }

    public static void AboutTopic(Report report, string docsDir, string moduleDir)
    {
        var problems = new List<string>();
        string path = Path.Combine(docsDir, "about_VirtioFs.help.txt");
        if (!File.Exists(path))
        {
            problems.Add("docs/en-US/about_VirtioFs.help.txt is missing");
        }
        else
        {
            string text = File.ReadAllText(path);
            foreach (string heading in new[] { "TOPIC", "SHORT DESCRIPTION", "LONG DESCRIPTION", "SEE ALSO" })
            {
                if (!text.Contains("\n" + heading + "\n", StringComparison.Ordinal) && !text.StartsWith(heading + "\n", StringComparison.Ordinal)) problems.Add($"has no '{heading}' heading");
            }
            if (!text.Contains("about_VirtioFs", StringComparison.Ordinal)) problems.Add("does not name about_VirtioFs");
            foreach (string placeholder in Placeholders.Where(p => text.Contains(p, StringComparison.Ordinal))) problems.Add($"contains the placeholder '{placeholder}'");
            if (!File.Exists(Path.Combine(moduleDir, "en-US", "about_VirtioFs.help.txt"))) problems.Add("is not staged in en-US/");
        }
        report.Check("surface docs about_VirtioFs", problems);
    }

    public static void FormatView(Report report, FormatView view, IReadOnlyList<Assembly> assemblies)
    {
        var problems = new List<string>();
        foreach (string typeName in view.TypeNames)
        {
            Type? type = assemblies.Select(a => a.GetType(typeName)).FirstOrDefault(t => t is not null);
            if (type is null)
            {
                problems.Add($"selects {typeName}, which no module assembly defines");
                continue;
            }
            foreach (string property in view.PropertyNames.Distinct())
            {
                if (type.GetProperty(property, BindingFlags.Public | BindingFlags.Instance) is null) problems.Add($"{typeName} has no public property {property}");
            }
        }
        report.Check($"surface format view {view.Name}", problems, $"{string.Join(", ", view.TypeNames)}: {view.PropertyNames.Distinct().Count()} properties");
    }

    public static void Hooks(Report report, Assembly module)
    {
        var problems = new List<string>();
        var types = module.GetExportedTypes();
        if (!types.Any(t => t.GetInterfaces().Any(i => i.FullName == "System.Management.Automation.IModuleAssemblyCleanup")))
            problems.Add("no IModuleAssemblyCleanup: Remove-Module would leave shares running");
        Type? share = types.FirstOrDefault(t => t.Name == "VirtioFsShare");
        if (share?.BaseType?.FullName != "System.Management.Automation.Job2") problems.Add("VirtioFsShare is missing or not a Job2: Get-Job would not see shares");
        foreach (var attribute in types.SelectMany(t => t.GetProperties()).SelectMany(p => p.GetCustomAttributesData())
                     .Where(a => a.AttributeType.FullName == "System.Management.Automation.ArgumentCompleterAttribute"))
        {
            if (attribute.ConstructorArguments[0].Value is Type completer && !completer.GetInterfaces().Any(i => i.FullName == "System.Management.Automation.IArgumentCompleter"))
                problems.Add($"{completer.FullName} is used as an argument completer but is not an IArgumentCompleter");
        }
        report.Check("surface module hooks", problems, "module cleanup, Job2 share, argument completers");
    }
}
