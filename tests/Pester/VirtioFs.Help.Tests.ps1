# Help completeness, after PSScriptAnalyzer's ModuleHelp.Tests.ps1: every exported command has a real synopsis,
# a description, examples with code, and help for every parameter with the right type. Needs the MAML help that
# build.ps1 generates with platyPS; without it Get-Help only shows the syntax, and these tests say so by skipping.

BeforeDiscovery {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'VirtioFs.TestHelpers.psm1') -Force
    Import-Module -Name (Get-VirtioFsTestModulePath) -Force
    $script:Commands = Get-Command -Module VirtioFs -CommandType Cmdlet | ForEach-Object -Process { @{ Name = $_.Name } }
    $moduleBase = (Get-Module -Name VirtioFs).ModuleBase
    $script:HasMaml = Test-Path -LiteralPath (Join-Path -Path $moduleBase -ChildPath 'en-US/VirtioFs.dll-Help.xml')
}

BeforeAll {
    Import-Module -Name (Join-Path -Path $PSScriptRoot -ChildPath 'VirtioFs.TestHelpers.psm1') -Force
    Import-Module -Name (Get-VirtioFsTestModulePath) -Force
}

Describe 'Help for <Name>' -Tag 'CI' -ForEach $script:Commands -Skip:(-not $script:HasMaml) {
    BeforeAll {
        $script:Help = Get-Help -Name $Name -Full
        $script:Command = Get-Command -Name $Name
    }

    It 'Has a synopsis that is not generated from the syntax' {
        $script:Help.Synopsis | Should -Not -BeNullOrEmpty
        $script:Help.Synopsis | Should -Not -BeLike "*$Name *[<CommonParameters>]*"
    }

    It 'Has a description' {
        ($script:Help.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty
    }

    It 'Has at least one example with code' {
        $script:Help.Examples.Example.Count | Should -BeGreaterThan 0
        $script:Help.Examples.Example[0].Code | Should -Not -BeNullOrEmpty
    }

    It 'Documents every parameter with its type' {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        foreach ($parameter in $script:Command.Parameters.Values | Where-Object -Property Name -NotIn -Value $common) {
            $parameterHelp = $script:Help.Parameters.Parameter | Where-Object -Property Name -EQ -Value $parameter.Name
            $parameterHelp | Should -Not -BeNullOrEmpty -Because "-$($parameter.Name) needs help"
            ($parameterHelp.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$($parameter.Name) needs a description"
        }
    }

    It 'Has no placeholder text' {
        ($script:Help | Out-String) | Should -Not -Match '\{\{'
    }
}
