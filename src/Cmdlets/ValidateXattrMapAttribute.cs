using System.Management.Automation;

namespace VirtioFs.Cmdlets;

/// <summary>
/// Checks -XattrMap with the share's own parser at binding time, so a bad rule is named (with its offset) before
/// anything starts, in PowerShell's usual ParameterArgumentValidationError.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateXattrMapAttribute : ValidateArgumentsAttribute
{
    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        if (arguments is not string rules) throw new ValidationMetadataException(string.Format(Strings.InvalidXattrMap, "The rules must be a string."));
        try
        {
            Backend.Passthrough.XattrMap.Parse(rules);
        }
        catch (ArgumentException e)
        {
            throw new ValidationMetadataException(string.Format(Strings.InvalidXattrMap, e.Message), e);
        }
    }
}
