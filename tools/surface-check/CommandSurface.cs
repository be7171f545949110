using System.Reflection;

namespace VirtioFs.SurfaceCheck;

/// <summary>One parameter in one parameter set, as the [Parameter] attribute declares it.</summary>
internal sealed record ParameterSetEntry(string SetName, string Position, bool IsRequired, bool ValueFromPipeline, bool ValueFromPipelineByPropertyName);

/// <summary>A cmdlet parameter read from metadata.</summary>
internal sealed record ParameterSurface(string Name, string TypeName, bool SupportsWildcards, IReadOnlyList<string> Aliases, IReadOnlyList<ParameterSetEntry> Sets);

/// <summary>A cmdlet read from metadata: its name, parameters, output types and ShouldProcess support.</summary>
internal sealed record CommandSurface(string Name, Type Type, bool SupportsShouldProcess, IReadOnlyList<ParameterSurface> Parameters, IReadOnlyList<string> OutputTypes)
{
    public const string AllSets = "__AllParameterSets";

    private const string Sma = "System.Management.Automation.";

    public static IReadOnlyList<CommandSurface> Read(Assembly assembly)
    {
        var result = new List<CommandSurface>();
        foreach (Type type in assembly.GetExportedTypes())
        {
            CustomAttributeData? cmdlet = Attribute(type, "CmdletAttribute");
            if (cmdlet is null) continue;
            string name = $"{cmdlet.ConstructorArguments[0].Value}-{cmdlet.ConstructorArguments[1].Value}";
            bool shouldProcess = Named(cmdlet, "SupportsShouldProcess") is true;
            var outputs = type.GetCustomAttributesData()
                .Where(a => a.AttributeType.FullName == Sma + "OutputTypeAttribute")
                .SelectMany(a => a.ConstructorArguments)
                .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => m.Value) : new[] { arg.Value })
                .Select(v => v is Type t ? t.FullName! : v?.ToString() ?? "")
                .ToList();
            result.Add(new CommandSurface(name, type, shouldProcess, ReadParameters(type), outputs));
        }
        return result;
    }

    private static List<ParameterSurface> ReadParameters(Type type)
    {
        var parameters = new List<ParameterSurface>();
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var sets = property.GetCustomAttributesData()
                .Where(a => a.AttributeType.FullName == Sma + "ParameterAttribute")
                .Select(a => new ParameterSetEntry(
                    Named(a, "ParameterSetName") as string ?? AllSets,
                    Named(a, "Position") is int position && position != int.MinValue ? position.ToString() : "Named",
                    Named(a, "Mandatory") is true,
                    Named(a, "ValueFromPipeline") is true,
                    Named(a, "ValueFromPipelineByPropertyName") is true))
                .ToList();
            if (sets.Count == 0) continue;
            var aliases = property.GetCustomAttributesData()
                .Where(a => a.AttributeType.FullName == Sma + "AliasAttribute")
                .SelectMany(a => ((IEnumerable<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value!).Select(v => (string)v.Value!))
                .ToList();
            bool wildcards = Attribute(property, "SupportsWildcardsAttribute") is not null;
            parameters.Add(new ParameterSurface(property.Name, property.PropertyType.FullName!, wildcards, aliases, sets));
        }
        return parameters;
    }

    private static CustomAttributeData? Attribute(MemberInfo member, string name)
        => member.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == Sma + name);

    private static object? Named(CustomAttributeData attribute, string name)
        => attribute.NamedArguments.Where(n => n.MemberName == name).Select(n => n.TypedValue.Value).FirstOrDefault();
}
