@{
    RootModule           = 'RnnLinearization.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '6f0c2a4e-3d8b-4b9e-9a51-2f7d3c1e8b40'
    Author               = 'RnnLinearization developers'
    CompanyName          = 'RnnLinearization'
    Copyright            = '(c) RnnLinearization developers. MIT License.'
    Description          = 'Local linear analysis of trained recurrent neural networks (PyTorch nn.RNN, nn.GRU, nn.LSTM and leaky rate networks): Jacobians, eigenvalues, time constants and first-order Taylor steps, batched over TorchSharp.'
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @('RnnLinearization.Format.ps1xml')
    CmdletsToExport      = @(
        'Import-RnnModel', 'Get-RnnFileContent', 'New-RnnModel', 'Export-RnnModel',
        'Get-RnnJacobian', 'Get-RnnEigen', 'Invoke-RnnLinearization',
        'Get-RnnTrajectory', 'Import-RnnState', 'Export-RnnState', 'Export-RnnResult', 'Join-RnnResult', 'Export-RnnPlot', 'Find-RnnFixedPoint', 'Get-RnnFlowField',
        'Get-RnnLyapunovSpectrum', 'Get-RnnFixedPointGraph', 'Compare-RnnFixedPointGraph', 'Trace-RnnFixedPoint',
        'Get-RnnConfiguration', 'Set-RnnConfiguration'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('RNN', 'PyTorch', 'TorchSharp', 'Jacobian', 'Eigenvalues', 'Neuroscience', 'Linux')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = 'First release: nn.RNN (tanh/relu), nn.GRU and nn.LSTM (bias or none, stacked layers) and leaky rate networks (masks, Dale signs) from torch.save state_dicts and safetensors; Jacobians, eigen decomposition, Taylor steps, trajectories, state files.'
        }
    }
}
