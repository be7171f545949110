using System.Management.Automation;

namespace VirtioFs.Cmdlets;

/// <summary>Remove-Module VirtioFs stops every share: nothing keeps serving a guest once the module is gone.</summary>
public sealed class ModuleLifetime : IModuleAssemblyCleanup
{
    public void OnRemove(PSModuleInfo psModuleInfo) => ShareSession.StopAll();
}
