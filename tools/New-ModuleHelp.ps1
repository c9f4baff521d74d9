<#
.SYNOPSIS
    Writes the module's MAML help from docs/help.psd1 and the cmdlets' own metadata.
.DESCRIPTION
    Syntax, parameter types, positions and pipeline binding come from Get-Command, so the help cannot drift from
    the code; the prose comes from docs/help.psd1. Default values are read from a fresh instance of each cmdlet
    (docs/help.psd1's Defaults say what an empty one means). Fails when a cmdlet, a parameter, the inputs, the outputs
    or the related links have no text, or a cmdlet has fewer than two examples.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $Source,
    [Parameter(Mandatory)][string] $OutFile
)
$ErrorActionPreference = 'Stop'
$module = Import-Module $ModulePath -PassThru -Force
$docs = Import-PowerShellDataFile $Source
$common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters |
    Where-Object { $_ -notin 'WhatIf', 'Confirm' }
function Esc([string] $s) { [Security.SecurityElement]::Escape($s) }
function TypeName([type] $t) { $u = [Nullable]::GetUnderlyingType($t); if ($u) { $u.Name } else { $t.Name } }
function Para([string] $s) { "<maml:description><maml:para>$(Esc $s)</maml:para></maml:description>" }

# The value a parameter has when not given: the docs' word for it, else the property of a fresh cmdlet object.
function DefaultText($doc, $instance, $p) {
    if ($doc.Defaults -and $doc.Defaults.ContainsKey($p.Name)) { return $doc.Defaults[$p.Name] }
    if ($p.ParameterType -eq [switch]) { return 'False' }
    $sets = @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
    if ($sets.Mandatory -notcontains $false) { return 'None (required)' }
    $property = $instance.GetType().GetProperty($p.Name)
    $value = if ($property) { $property.GetValue($instance) }
    if ($null -eq $value) { return 'None' }
    if ($value -is [Array]) { return ($value -join ', ') }
    return "$value"
}

$sb = [Text.StringBuilder]::new()
[void]$sb.AppendLine('<?xml version="1.0" encoding="utf-8"?>')
[void]$sb.AppendLine('<helpItems schema="maml" xmlns="http://msh">')
foreach ($name in ($module.ExportedCmdlets.Keys | Sort-Object)) {
    $doc = $docs[$name]
    if (-not $doc) { throw "docs/help.psd1 has no entry for $name." }
    $cmd = Get-Command $name
    $verb, $noun = $name -split '-', 2
    $params = $cmd.Parameters.Values | Where-Object Name -NotIn $common
    foreach ($p in $params) { if (-not $doc.Parameters[$p.Name]) { throw "docs/help.psd1 does not describe $name -$($p.Name)." } }
    foreach ($key in 'Inputs', 'Outputs', 'Links') { if (-not $doc[$key]) { throw "docs/help.psd1 has no $key for $name." } }
    if (@($doc.Examples).Count -lt 2) { throw "docs/help.psd1 has fewer than two examples for $name." }
    $instance = [Activator]::CreateInstance($cmd.ImplementingType)
    [void]$sb.AppendLine('<command:command xmlns:maml="http://schemas.microsoft.com/maml/2004/10" xmlns:command="http://schemas.microsoft.com/maml/dev/command/2004/10" xmlns:dev="http://schemas.microsoft.com/maml/dev/2004/10">')
    [void]$sb.AppendLine("<command:details><command:name>$name</command:name>$(Para $doc.Synopsis)<command:verb>$verb</command:verb><command:noun>$noun</command:noun></command:details>")
    [void]$sb.AppendLine((Para $doc.Description))
    [void]$sb.AppendLine('<command:syntax>')
    foreach ($set in $cmd.ParameterSets) {
        [void]$sb.Append("<command:syntaxItem><maml:name>$name</maml:name>")
        foreach ($p in ($set.Parameters | Where-Object Name -NotIn $common | Sort-Object { if ($_.Position -ge 0) { $_.Position } else { 1000 } })) {
            $pos = if ($p.Position -ge 0) { $p.Position + 1 } else { 'named' }
            $type = TypeName $p.ParameterType
            [void]$sb.Append("<command:parameter required=`"$($p.IsMandatory.ToString().ToLower())`" position=`"$pos`"><maml:name>$($p.Name)</maml:name>")
            if ($p.ParameterType -ne [switch]) { [void]$sb.Append("<command:parameterValue required=`"true`">$(Esc $type)</command:parameterValue>") }
            [void]$sb.Append('</command:parameter>')
        }
        [void]$sb.AppendLine('</command:syntaxItem>')
    }
    [void]$sb.AppendLine('</command:syntax><command:parameters>')
    foreach ($p in $params) {
        $attrs = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
        $pipe = @(if ($attrs.ValueFromPipeline -contains $true) { 'ByValue' }; if ($attrs.ValueFromPipelineByPropertyName -contains $true) { 'ByPropertyName' })
        $pipeText = if ($pipe) { "True ($($pipe -join ', '))" } else { 'False' }
        $required = ($attrs.Mandatory -contains $true).ToString().ToLower()
        $position = ($attrs | Where-Object Position -ge 0 | Select-Object -First 1).Position
        $pos = if ($null -ne $position) { $position + 1 } else { 'named' }
        $type = Esc (TypeName $p.ParameterType)
        [void]$sb.AppendLine("<command:parameter required=`"$required`" position=`"$pos`" pipelineInput=`"$pipeText`" globbing=`"false`"><maml:name>$($p.Name)</maml:name>$(Para $doc.Parameters[$p.Name])<command:parameterValue required=`"true`">$type</command:parameterValue><dev:type><maml:name>$type</maml:name></dev:type><dev:defaultValue>$(Esc (DefaultText $doc $instance $p))</dev:defaultValue></command:parameter>")
    }
    [void]$sb.AppendLine('</command:parameters>')
    [void]$sb.AppendLine("<command:inputTypes><command:inputType><dev:type><maml:name>$(Esc $doc.Inputs)</maml:name></dev:type></command:inputType></command:inputTypes>")
    $types = ($cmd.OutputType | ForEach-Object Name) -join ', '
    [void]$sb.AppendLine("<command:returnValues><command:returnValue><dev:type><maml:name>$(Esc $types)</maml:name></dev:type>$(Para $doc.Outputs)</command:returnValue></command:returnValues>")
    [void]$sb.AppendLine('<command:examples>')
    $i = 0
    foreach ($ex in $doc.Examples) {
        $i++
        [void]$sb.AppendLine("<command:example><maml:title>-------------------------- Example $i --------------------------</maml:title><dev:code>$(Esc $ex.Code)</dev:code><dev:remarks><maml:para>$(Esc $ex.Remarks)</maml:para></dev:remarks></command:example>")
    }
    [void]$sb.AppendLine('</command:examples><maml:relatedLinks>')
    foreach ($link in $doc.Links) { [void]$sb.AppendLine("<maml:navigationLink><maml:linkText>$(Esc $link)</maml:linkText><maml:uri /></maml:navigationLink>") }
    [void]$sb.AppendLine('</maml:relatedLinks></command:command>')
}
[void]$sb.AppendLine('</helpItems>')
New-Item -ItemType Directory (Split-Path $OutFile) -Force | Out-Null
Set-Content -Path $OutFile -Value $sb.ToString() -Encoding utf8
