using VirtioFs.EndToEnd.Infrastructure;
using Xunit;

namespace VirtioFs.EndToEnd;

/// <summary>The serial-log parser on its own: no guest needed.</summary>
public sealed class SerialReportTests
{
    private static readonly string[] s_expected = ["mount", "list"];

    [Fact]
    public void Finds_markers_between_terminal_escapes_and_kernel_lines()
    {
        var report = SerialReport.Parse(
        [
            "\u001bc\u001b[?7l\u001b[2JE2E CHECK mount PASS virtiofs 'e2e' on /mnt",
            "[    3.1] virtiofs virtio1: some kernel message",
            "E2E VALUE host_big_sha256 abc123",
            "E2E CHECK list FAIL got 'a', expected 'b'",
            "E2E DONE 2",
        ]);

        Assert.Equal(2, report.DoneCount);
        Assert.Equal([new GuestCheck("mount", true, "virtiofs 'e2e' on /mnt"), new GuestCheck("list", false, "got 'a', expected 'b'")], report.Checks);
        Assert.Equal("abc123", report.Values["host_big_sha256"]);
        Assert.Equal(["check 'list' FAILED: got 'a', expected 'b'"], report.Failures(s_expected, ["host_big_sha256"]));
    }

    [Fact]
    public void A_missing_check_a_missing_value_and_a_missing_done_are_failures()
    {
        var report = SerialReport.Parse(["E2E CHECK mount PASS"]);

        var failures = report.Failures(s_expected, ["guest_big_sha256"]);

        Assert.Contains(failures, f => f.Contains("E2E DONE", StringComparison.Ordinal));
        Assert.Contains("1 expected check(s) missing: list", failures);
        Assert.Contains("value 'guest_big_sha256' is missing", failures);
    }

    [Fact]
    public void A_line_lost_to_interleaving_shows_as_a_count_mismatch()
    {
        // The guest printed three checks; a kernel message broke one line so only two parse.
        var report = SerialReport.Parse(["E2E CHECK mount PASS", "E2E CHE[ 5.0] oops", "K list PASS", "E2E CHECK list PASS", "E2E DONE 3"]);

        Assert.Contains("the guest counted 3 checks but 2 were parsed from the serial log", report.Failures(s_expected, []));
    }

    [Fact]
    public void Duplicates_and_unexpected_names_are_failures()
    {
        var report = SerialReport.Parse(["E2E CHECK mount PASS", "E2E CHECK mount PASS", "E2E CHECK list PASS", "E2E CHECK extra PASS", "E2E DONE 4"]);

        var failures = report.Failures(s_expected, []);

        Assert.Contains("check 'mount' reported more than once", failures);
        Assert.Contains(failures, f => f.StartsWith("check 'extra' is not one", StringComparison.Ordinal));
    }
}
