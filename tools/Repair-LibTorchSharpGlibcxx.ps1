<#
.SYNOPSIS
    Makes TorchSharp's native bridge loadable on hosts whose libstdc++ predates GLIBCXX_3.4.32 (Debian 12).
.DESCRIPTION
    libLibTorchSharp.so (TorchSharp 0.107) lists a requirement on GLIBCXX_3.4.32 whose only symbol,
    std::ios_base_library_init(), has no relocation against it. Marking that one requirement weak
    (VER_FLG_WEAK in its .gnu.version_r entry) lets the loader accept an older libstdc++.
    The file is changed only when the host lacks the version; run on a host that has it, this does nothing.
.PARAMETER Path
    Folders holding a copy of libLibTorchSharp.so that will be loaded (module folder, test output).
#>
[CmdletBinding()]
param([Parameter(Mandatory)][string[]] $Path)

$ErrorActionPreference = 'Stop'
$Version = 'GLIBCXX_3.4.32'

function Test-HostHasGlibcxxVersion {
    $candidates = @('/usr/lib/x86_64-linux-gnu/libstdc++.so.6', '/usr/lib64/libstdc++.so.6', '/usr/lib/libstdc++.so.6')
    $lib = $candidates | Where-Object { Test-Path $_ } | Select-Object -First 1
    if (-not $lib) { return $true }   # not a glibc Linux we know: leave the file alone
    $text = [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes((Resolve-Path $lib).Path))
    return $text.Contains("$Version`0")
}

function Set-WeakVersionRequirement([string] $File) {
    $bytes = [IO.File]::ReadAllBytes($File)
    if ($bytes.Length -lt 64 -or $bytes[0] -ne 0x7f -or $bytes[4] -ne 2) { throw "$File is not a 64-bit ELF file." }
    $shoff = [BitConverter]::ToUInt64($bytes, 0x28)
    $shentsize = [BitConverter]::ToUInt16($bytes, 0x3A)
    $shnum = [BitConverter]::ToUInt16($bytes, 0x3C)
    $changed = 0
    for ($i = 0; $i -lt $shnum; $i++) {
        $sh = [int]($shoff + $i * $shentsize)
        if ([BitConverter]::ToUInt32($bytes, $sh + 4) -ne 0x6ffffffe) { continue }   # SHT_GNU_verneed
        $offset = [int][BitConverter]::ToUInt64($bytes, $sh + 0x18)
        $strtab = [int]($shoff + [BitConverter]::ToUInt32($bytes, $sh + 0x28) * $shentsize)
        $strOffset = [int][BitConverter]::ToUInt64($bytes, $strtab + 0x18)
        $count = [BitConverter]::ToUInt32($bytes, $sh + 0x2C)
        $need = $offset
        for ($n = 0; $n -lt $count; $n++) {
            $auxCount = [BitConverter]::ToUInt16($bytes, $need + 2)
            $aux = $need + [int][BitConverter]::ToUInt32($bytes, $need + 8)
            for ($a = 0; $a -lt $auxCount; $a++) {
                $nameAt = $strOffset + [int][BitConverter]::ToUInt32($bytes, $aux + 8)
                $end = [Array]::IndexOf($bytes, [byte]0, $nameAt)
                $name = [Text.Encoding]::ASCII.GetString($bytes, $nameAt, $end - $nameAt)
                if ($name -eq $Version) {
                    $flags = [BitConverter]::ToUInt16($bytes, $aux + 4) -bor 0x2   # VER_FLG_WEAK
                    [BitConverter]::GetBytes([uint16]$flags).CopyTo($bytes, $aux + 4)
                    $changed++
                }
                $aux += [int][BitConverter]::ToUInt32($bytes, $aux + 12)
            }
            $need += [int][BitConverter]::ToUInt32($bytes, $need + 12)
        }
    }
    if ($changed) { [IO.File]::WriteAllBytes($File, $bytes) }
    return $changed
}

if (Test-HostHasGlibcxxVersion) {
    Write-Verbose "Host libstdc++ provides $Version; nothing to repair."
    return
}
foreach ($folder in $Path) {
    foreach ($file in Get-ChildItem -Path $folder -Filter 'libLibTorchSharp.so' -Recurse -File) {
        $n = Set-WeakVersionRequirement $file.FullName
        Write-Verbose "Marked $Version weak in $($file.FullName) ($n entries)."
    }
}
