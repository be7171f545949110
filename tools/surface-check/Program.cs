using System.Reflection;
using System.Runtime.InteropServices;
using VirtioFs.SurfaceCheck;

// surface-check MODULE_DIR DOCS_DIR
// MODULE_DIR is the staged module (out/VirtioFs: manifest, VirtioFs.dll, VirtioFs.Backend.dll, format file, en-US/);
// DOCS_DIR is docs/en-US. Prints one PASS/FAIL line per check and exits 1 when any failed.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: surface-check MODULE_DIR DOCS_DIR");
    return 2;
}
string moduleDir = Path.GetFullPath(args[0]), docsDir = Path.GetFullPath(args[1]);
var report = new Report();

string sma = Path.Combine(AppContext.BaseDirectory, "System.Management.Automation.dll");
var resolverPaths = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
    .Concat(Directory.GetFiles(moduleDir, "*.dll"))
    .Append(sma);
using var context = new MetadataLoadContext(new PathAssemblyResolver(resolverPaths));
var manifest = new Manifest(Path.Combine(moduleDir, "VirtioFs.psd1"));
string rootModule = manifest.Scalar("RootModule") ?? "";
Assembly module = context.LoadFromAssemblyPath(Path.Combine(moduleDir, rootModule.Length > 0 ? rootModule : "VirtioFs.dll"));
var assemblies = new List<Assembly> { module };
assemblies.AddRange(module.GetReferencedAssemblies()
    .Where(r => File.Exists(Path.Combine(moduleDir, r.Name + ".dll")))
    .Select(r => context.LoadFromAssemblyPath(Path.Combine(moduleDir, r.Name + ".dll"))));
IReadOnlyList<CommandSurface> commands = CommandSurface.Read(module);

Checks.Manifest(report, manifest, moduleDir, module);
Checks.Exports(report, manifest, commands);
foreach (CommandSurface command in commands.OrderBy(c => c.Name, StringComparer.Ordinal))
{
    Checks.CommandHelp(report, command, docsDir);
}
Checks.NothingExtraDocumented(report, commands, docsDir);
Checks.ModulePage(report, commands, docsDir);
Checks.AboutTopic(report, docsDir, moduleDir);
foreach (string formats in manifest.List("FormatsToProcess") ?? new List<string>())
{
    foreach (FormatView view in FormatView.Read(Path.Combine(moduleDir, formats)))
    {
        Checks.FormatView(report, view, assemblies);
    }
}
Checks.Hooks(report, module);
return report.Failed == 0 ? 0 : 1;
