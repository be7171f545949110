namespace VirtioFs.Backend.Qemu;

/// <summary>A QEMU or libvirt configuration that would not work; the message says what to change.</summary>
public sealed class QemuConfigurationException : ArgumentException
{
    public QemuConfigurationException(QemuConfigurationProblem problem, string message, string? paramName = null)
        : base(message, paramName)
    {
        Problem = problem;
    }

    public QemuConfigurationProblem Problem { get; }
}
