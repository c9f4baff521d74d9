# The cmdlets' help text, one entry per cmdlet. tools/New-ModuleHelp.ps1 turns it into MAML
# (en-US/RnnLinearization.dll-Help.xml), taking syntax, types and pipeline binding from the cmdlets themselves;
# a test checks that every parameter is described here.
@{
    'Import-RnnModel' = @{
        Synopsis    = 'Loads a recurrent network from what torch.save writes (state_dicts, checkpoints, whole pickled modules; zip or pre-1.6 legacy format), a .safetensors file, mRNNTorch''s layout, a file with its own parameter names (-ParameterMap) or a TorchScript archive.'
        Description = 'Reads the parameters of an nn.RNN, nn.GRU or nn.LSTM (or of a LeakyRnn), finds its keys (under -Prefix, or the only prefix that holds RNN weights), infers the architecture and number of layers from their shapes, checks every shape, and emits an RnnModel. Both torch.save formats are read (the zip format of PyTorch 1.6 and later, and the legacy format before it), whatever device the tensors were saved from (cuda:0 is only a tag). Nested dicts of a training checkpoint are joined with dots (model_state_dict.rnn.weight_ih_l0); optimizer and scheduler state is passed over. A whole pickled module (torch.save(model)) is read without running anything: its tensors are named as its state_dict() names them, and the nonlinearity, layers and options come from the pickled nn.RNN/GRU/LSTM itself. A file that asks to run code when loaded (os.system, eval, torch.load, ...) is refused (PickleCallRefused) and nothing in it runs; a call the module does not know is named in a warning, since Python would make it. A plain state_dict does not record the nonlinearity: Tanh is assumed unless -Nonlinearity says otherwise, and the model''s view shows "Tanh (assumed)". Files in mRNNTorch''s layout (W_rec, W_rec_mask, W_rec_sign_matrix, W_inp, W_inp_mask) are converted as mRNNTorch computes its weights (Dale''s law on |W_rec| under the mask, the input under its mask), as its Elman form by default or its leaky form with -Architecture LeakyRnn -Alpha; the masks and per-unit signs are kept in Parameters and the excitatory and inhibitory units become regions. For networks written by hand with their own names, -ParameterMap names which key is which parameter. For several layers the state is all layers'' states concatenated in layer order; an LSTM layer''s state is [h; c] (2H values). The format is recognised from the file''s bytes, not its name. A TorchScript archive (torch.jit.script(cell).save(path)) runs its own code when loaded, as torch.jit.load does, so it is loaded only with -Architecture TorchScript; its forward(input [B, InputSize], h [B, HiddenSize]) must return the next state [B, HiddenSize] (or a tuple whose last element is), with the rows of a batch independent, and since TorchScript does not record sizes, -InputSize and -HiddenSize are required. Every file is read within fixed budgets (depth, objects, bytes as doubles) and with checked arithmetic: a damaged or crafted file fails with its own error id (UnreadableModelFile, ModelFileTooComplex, ModelFileTooLarge, InconsistentTensorView, DuplicateRecord) and never reads as numbers PyTorch would not give. Several paths may be piped: a file that cannot be loaded is an error for that file, and the others are loaded.'
        Inputs      = 'System.String: the path of a model file, by value or as the FullName (or Path) property of Get-ChildItem''s output.'
        Outputs     = 'RnnModel: the network, ready for the analysis cmdlets.'
        Links       = @('Get-RnnFileContent', 'New-RnnModel', 'Export-RnnModel', 'Get-RnnJacobian')
        Defaults    = @{ Architecture = 'inferred from the file'; Nonlinearity = 'what the file records, else Tanh (assumed)'; Prefix = 'the only prefix that holds RNN weights'; Readout = 'the one linear layer beside the RNN whose width is the hidden size'; ParameterMap = 'None: the names PyTorch gives'; Alpha = 'None (required for LeakyRnn, or -Dt and -Tau)' }
        Parameters  = @{
            Path         = 'The model file: torch.save(model.state_dict(), path), a checkpoint dict, torch.save(model) (a whole module), either torch.save format, a .safetensors file, or a TorchScript archive. Accepts FullName from Get-ChildItem.'
            Architecture = 'Rnn (nn.RNN), Gru (nn.GRU), Lstm (nn.LSTM), LeakyRnn (x'' = x + alpha (-x + W f(x) + W_in u + b); needs -Alpha, or -Dt and -Tau) or TorchScript (runs the archive''s code). Rnn, Gru and Lstm are inferred from the shape of weight_hh_l0 (H, 3H or 4H rows); a mismatch is an error. A TorchScript archive is loaded only when this says TorchScript.'
            InputSize    = 'Required for a TorchScript cell: the length of its input. For other models, checked against the weights.'
            HiddenSize   = 'Required for a TorchScript cell: the length of the state h its forward takes and returns. For other models, checked against the weights (the hidden size per layer).'
            Nonlinearity = 'Tanh or Relu for nn.RNN (as nn.RNN(nonlinearity=...) was built); Tanh, Relu, Sigmoid, Softplus or Linear for a LeakyRnn. Default: what the file records (a whole pickled nn.RNN, or Export-RnnModel''s metadata), else Tanh, assumed and shown as such. GRUs and LSTMs have no choice: Tanh. Contradicting what the file records is an error (NonlinearityMismatch).'
            Prefix       = 'Key prefix of the RNN inside a larger model''s state_dict: rnn for keys rnn.weight_ih_l0, ... Needed only when several RNNs are present. Tab completes the prefixes the file holds.'
            Alpha        = 'For -Architecture LeakyRnn: alpha = dt / tau in (0, 1], the step x'' = x + alpha (-x + W_rec f(x) + W_in u + b).'
            Dt           = 'The time one step takes, in the model''s own time unit (any architecture): the model keeps it as Dt, and Get-RnnEigen -PerMode, Find-RnnFixedPoint and Get-RnnLyapunovSpectrum then report time constants, periods and rates in that unit, with continuous-time eigenvalues ln(lambda) / Dt beside the discrete ones. For -Architecture LeakyRnn, with -Tau, it also gives alpha = Dt / Tau.'
            RegionMap    = 'A JSON file of named unit ranges, {"PFC": [0, 40], "MD": [40, 60]} (start inclusive, end exclusive), for -Region on Get-RnnJacobian and Get-RnnEigen.'
            Tau          = 'For -Architecture LeakyRnn, with -Dt: alpha = Dt / Tau (not with -Alpha).'
            Readout      = 'The linear readout to use: a key prefix (readout for readout.weight [outputs, hidden] and readout.bias) or a 2-D tensor''s full key (W_out.weight, or W_out for a bare parameter). When not given, the one 2-D ...weight outside the RNN whose width is the hidden size is taken (said in the verbose stream); when several could be, none is taken and the verbose stream names them. The readout reads the top layer''s h (for a LeakyRnn, the rates f(x)); its outputs are the Output property of trajectory states, fixed points and flow points. Tab completes the file''s 2-D tensors.'
            NoReadout    = 'Ignores any readout in the file: Output stays empty.'
            ParameterMap = 'For files whose keys are not PyTorch''s names: a hashtable from the architecture''s parameter names (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ... for Rnn, Gru and Lstm; weight_hh, weight_ih, bias, mask_hh, sign for LeakyRnn) to the file''s keys, as Get-RnnFileContent lists them (nested dicts joined with dots). A value is a key (''model_state.core.affine.weight''), a key with a NumPy slice (''i2h.weight[:, 62:190]''), or an array of keys joined along columns (''b_m'', ''b_c''; a 1-D tensor is one column). A bias the map does not name is zero (the verbose stream says so). Shapes are checked, and errors name the map entry.'
        }
        Examples    = @(
            @{ Code = '$m = Import-RnnModel ./flipflop_rnn.pt -Verbose'; Remarks = 'Loads a file saved with torch.save(model.state_dict(), path): the nn.RNN under rnn.* and its readout under readout.*, both found without -Prefix (the verbose stream says what was found and assumed).' }
            @{ Code = '$whole = Import-RnnModel ./whole_model.pt -Verbose'; Remarks = 'Loads a model saved whole with torch.save(model) (here in the legacy pre-1.6 format), without its Python class and without running anything; the nonlinearity and layers come from the pickled nn.LSTM.' }
            @{ Code = '$mante = Import-RnnModel ./net.pth -Architecture LeakyRnn -Dt 0.001 -Tau 0.01 -ParameterMap @{ weight_hh = ''J.weight''; weight_ih = ''b_m'', ''b_c'', ''b_cm'', ''b_cc''; bias = ''c_x'' }'; Remarks = 'Loads a hand-written leaky network (x'' = x + 0.1 (-x + J tanh(x) + B u + c)) whose parameters have their own names: four input columns joined into weight_ih. Its readout W_out.weight is found by itself.' }
            @{ Code = '$ctrnn = Import-RnnModel ./ctrnn.pt -Architecture Rnn -Nonlinearity Relu -ParameterMap @{ weight_ih_l0 = ''model_state.core.affine.weight[:, 0:3]''; weight_hh_l0 = ''model_state.core.affine.weight[:, 3:8]''; bias_ih_l0 = ''model_state.core.affine.bias'' }'; Remarks = 'One affine layer over [x; h] in a checkpoint, split into its input and recurrent columns; bias_hh_l0 is not named, so it is zero.' }
            @{ Code = '$em = Import-RnnModel ./mrnn_model.pth; $em.Regions.Keys'; Remarks = 'A network saved by mRNNTorch (W_rec, W_rec_mask, W_rec_sign_matrix, W_inp, ...) loads as its Elman form h'' = tanh(W h + W_in u) with Dale''s law applied; its excitatory and inhibitory units become the regions Excitatory and Inhibitory.' }
            @{ Code = '$leaky = Import-RnnModel ./mrnn.safetensors -Architecture LeakyRnn -Nonlinearity Relu -Dt 10 -Tau 100 -RegionMap ./regions.json'; Remarks = 'Loads a leaky rate network (keys weight_hh, weight_ih, bias, mask_hh, sign) with alpha = 0.1 and named regions for -Region.' }
            @{ Code = '$decoder = Import-RnnModel ./checkpoint.pt -Prefix model_state_dict.decoder'; Remarks = 'Loads one of two RNNs from a training checkpoint ({''model_state_dict'': ..., ''optimizer_state_dict'': ...}); without -Prefix the error names both.' }
            @{ Code = '$cell = Import-RnnModel ./cell_scripted.pt -Architecture TorchScript -InputSize 3 -HiddenSize 6'; Remarks = 'Loads a cell saved in Python with torch.jit.script(MyCell(3, 6)).save("cell_scripted.pt"), running its code as torch.jit.load would (load only files you trust); its Jacobians come from autograd.' }
            @{ Code = 'Get-ChildItem ./*.pt | Import-RnnModel -ErrorAction SilentlyContinue -ErrorVariable failed | ForEach-Object { "$(Split-Path -Leaf $_.Path): $($_.Architecture) $($_.HiddenSize)" }; $failed.Count'; Remarks = 'Loads every .pt file in a folder: a file that cannot be loaded as given (here the checkpoint with two RNNs, the TorchScript cell) is an error for that file, collected in $failed, and the rest are loaded.' }
        )
    }
    'Get-RnnFileContent' = @{
        Synopsis    = 'Lists what a model file holds: its tensors (dotted names, shapes, types), pickled modules, and a checkpoint''s other values, without building a model.'
        Description = 'Reads the file as Import-RnnModel does (every torch.save format, safetensors; nothing in it is run) and emits one RnnFileEntry per tensor, per pickled nn.Module (its class in Value) and per other value (numbers, strings, short lists; a checkpoint''s optimizer state is listed as not read). Keys are what -Prefix, -Readout and -ParameterMap take: nested dicts joined with dots, a whole module''s tensors as its state_dict() names them. Tensor values are not read. A TorchScript archive is recognised and not read (its code would run).'
        Inputs      = 'System.String: the path of a model file, by value or as the FullName property of Get-ChildItem''s output.'
        Outputs     = 'RnnFileEntry: Key, Kind (Tensor, Module or Value), Shape ([64, 67]), Elements, DType (float32, ...), Value, Path, Format.'
        Links       = @('Import-RnnModel')
        Parameters  = @{
            Path = 'The model file. Accepts FullName from Get-ChildItem.'
        }
        Examples    = @(
            @{ Code = 'Get-RnnFileContent ./ctrnn.pt'; Remarks = 'Shows a training checkpoint''s tensors (model_state.core.affine.weight [5, 8], ...) and its hyper-parameters (cfg.dt, cfg.tau): what -ParameterMap needs to name.' }
            @{ Code = 'Get-RnnFileContent ./whole_model.pt | Where-Object Kind -eq Module'; Remarks = 'The modules of a whole pickled model and their classes (__main__.LSTM, torch.nn.modules.rnn.LSTM, ...).' }
            @{ Code = 'Get-ChildItem ./*.pt | Get-RnnFileContent | Where-Object Kind -eq Tensor | Export-Csv ./tensors.csv'; Remarks = 'Every tensor of every .pt file in a folder, one row each, with its file in Path.' }
        )
    }
    'New-RnnModel' = @{
        Synopsis    = 'Creates a recurrent network with PyTorch''s default initialisation.'
        Description = 'Every weight and bias is drawn uniformly from (-1/sqrt(HiddenSize), 1/sqrt(HiddenSize)), as nn.RNN initialises them, and rounded to float32 as PyTorch stores them. Useful for tests, teaching and baselines (the spectrum of an untrained network).'
        Inputs      = 'None.'
        Outputs     = 'RnnModel.'
        Links       = @('Import-RnnModel', 'Export-RnnModel')
        Defaults    = @{ Seed = 'a different random seed each call' }
        Parameters  = @{
            InputSize    = 'Number of input channels.'
            HiddenSize   = 'Number of hidden units per layer.'
            NumLayers    = 'Number of stacked layers (default 1). The state is all layers'' hidden vectors concatenated.'
            Architecture = 'Rnn (default), Gru, Lstm or LeakyRnn (with -Alpha). TorchScript cells are written in Python and imported.'
            Nonlinearity = 'Tanh (default) or Relu for Rnn; Tanh, Relu, Sigmoid, Softplus or Linear for LeakyRnn; GRUs and LSTMs have no choice (Tanh).'
            NoBias       = 'Builds the network without biases, as nn.RNN(bias=False).'
            Seed         = 'Seed for the random weights, for reproducible models.'
            Alpha        = 'For -Architecture LeakyRnn: alpha = dt / tau in (0, 1].'
        }
        Examples    = @(
            @{ Code = '$r = New-RnnModel -InputSize 3 -HiddenSize 128 -Seed 1'; Remarks = 'A reproducible random tanh RNN.' }
            @{ Code = 'New-RnnModel -InputSize 1 -HiddenSize 64 -NumLayers 2 -Nonlinearity Relu | Export-RnnModel -Path ./init.safetensors'; Remarks = 'Creates a two-layer relu network and saves it.' }
            @{ Code = '$r = New-RnnModel -InputSize 3 -HiddenSize 256 -Seed 1; Get-RnnEigen -Model $r -State ([double[]]::new(256)) -NoEigenvectors | Select-Object SpectralRadius, UnstableCount'; Remarks = 'The spectrum of an untrained network at the origin: a baseline for a trained one.' }
        )
    }
    'Export-RnnModel' = @{
        Synopsis    = 'Writes a model as a .safetensors file under PyTorch''s state_dict key names.'
        Description = 'The file holds weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ... (float32 when that is exact, else float64) and records the architecture and nonlinearity as metadata. In Python: nn.RNN(...).load_state_dict(safetensors.torch.load_file(path)).'
        Inputs      = 'RnnModel, by value (or a model file''s path).'
        Outputs     = 'None, or System.IO.FileInfo with -PassThru.'
        Links       = @('Import-RnnModel', 'New-RnnModel')
        Parameters  = @{
            Model     = 'The model to write, from Import-RnnModel or New-RnnModel (accepted from the pipeline), or the path of a model file (loaded as Import-RnnModel loads it without options).'
            Path      = 'The file to write.'
            NoClobber = 'Never replaces an existing file: checked before the write and decided when the file is moved into place, so of two jobs writing one name the first to finish keeps it and the other stops with *FileExists.'
            PassThru  = 'Emits the written file as a FileInfo.'
            WhatIf    = 'Shows what would be written without writing.'
            Confirm   = 'Asks before writing.'
        }
        Examples    = @(
            @{ Code = 'Export-RnnModel -Model $m -Path ./model.safetensors'; Remarks = 'Saves the model (with its readout) as safetensors under PyTorch''s key names.' }
            @{ Code = 'Import-RnnModel ./checkpoint.pt -Prefix model_state_dict.decoder | Export-RnnModel ./decoder.safetensors -PassThru'; Remarks = 'Takes one RNN out of a training checkpoint into a file of its own; in Python: nn.RNN(...).load_state_dict(safetensors.torch.load_file("decoder.safetensors")).' }
        )
    }
    'Get-RnnJacobian' = @{
        Synopsis    = 'Computes the Jacobians of the network''s update at given states and inputs.'
        Description = 'For each state h with input x, emits an RnnJacobian with NextState = F(h, x), StateJacobian (row i = d NextState[i] / d h) and InputJacobian (row i = d NextState[i] / d x), the same numbers as the reference Linearization.jacobian, always as 2-D matrices; when the model has a readout, also OutputJacobian (row o = d Output[o] / d h, which Get-RnnEigen -LeftEigenvectors uses for the readout overlaps). States stream in from the pipeline (Input, State and Index bind by property name) and are computed in batches with closed-form Jacobians. A state or input of the wrong length, or with NaN or infinite values, is reported as an error for that item and the stream goes on. At state sizes of about 1,000 and more one state''s Jacobian (8 MB at 1,024) outgrows the .NET garbage collector''s default young generation; batch jobs on such networks run about 8 times faster when pwsh is started with the environment variable DOTNET_GCgen0size=0x8000000 (README, Performance).'
        Inputs      = 'Objects with State (and optionally Input, Index) properties, by property name: RnnState (Get-RnnTrajectory, Import-RnnState), RnnFixedPoint, your own.'
        Outputs     = 'RnnJacobian, one per state (for an LSTM also with Hidden, Cell, NextHidden and NextCell).'
        Links       = @('Get-RnnEigen', 'Invoke-RnnLinearization', 'Export-RnnResult', 'about_RnnLinearization')
        Defaults    = @{ Input = 'zeros (the autonomous dynamics)'; Index = 'its position in the stream'; Region = 'the whole network' }
        Parameters  = @{
            Model     = 'The network, from Import-RnnModel or New-RnnModel, or the path of a model file (loaded as Import-RnnModel loads it without options).'
            Input     = 'The input x at the state; zeros (autonomous dynamics) when not given. Given on the command line it is used for every piped state.'
            State     = 'The state h to linearise about: StateSize numbers.'
            Index     = 'A number carried to the output to identify the state; its position in the stream when not given.'
            BatchSize = 'How many states are computed together (default 256); capped so that a batch''s state-by-state matrices stay near 512 MB (64 states at 1,024 units), with a verbose message.'
            SourcePath = 'The file a piped state was read from, bound from the Path property that Import-RnnState sets (hidden): a state of the wrong length there stops the command with one error that names the file, both widths and the likely cause, instead of one error per row.'
            SourceRow  = 'The row''s number in the state file a piped state was read from, bound from Import-RnnState''s SourceRow (hidden): carried to the results, so that the parts of shards join in the file''s order (Join-RnnResult).'
            Trial      = 'The trial of a piped state, bound from the Trial that Get-RnnTrajectory -InputFile sets (hidden): carried to the results, to group or colour them by trial.'
            Region    = 'One region name (its own block of the Jacobians) or two, To and From: the block d NextState[To] / d State[From]. Needs a model loaded with -RegionMap.'
            Precision = 'Double (default), or Single for float32 tensor arithmetic: faster for large eigendecompositions, with float32 rounding (relative errors near 1e-6). Outputs stay double.'
        }
        Examples    = @(
            @{ Code = 'Get-RnnJacobian -Model $m -Input 0.1,0,-0.2 -State $h'; Remarks = 'The Jacobians at one state and input.' }
            @{ Code = '$traj | Get-RnnJacobian -Model $m | ConvertTo-Json -Depth 5 > jacobians.json'; Remarks = 'The Jacobians of the steps of a trajectory, each at the state it started from and its own input (so NextState is the trajectory''s next state), saved as JSON.' }
            @{ Code = '$leaky = Import-RnnModel ./mrnn.safetensors -Architecture LeakyRnn -Nonlinearity Relu -Alpha 0.1 -RegionMap ./regions.json; Get-RnnJacobian -Model $leaky -State (1..10 | ForEach-Object { 0.1 * $_ }) -Region A, B'; Remarks = 'The block of the Jacobian by which region B''s units drive region A''s (rows: A, columns: B).' }
        )
    }
    'Get-RnnEigen' = @{
        Synopsis    = 'Computes the eigenvalues and eigenvectors of the state Jacobian: stability, time constants and oscillation periods.'
        Description = 'Emits one RnnEigen per state: Eigenvalues (complex), Real, Imaginary, Magnitude, Eigenvectors (Eigenvectors[k] belongs to Eigenvalues[k]), SpectralRadius, IsStable (spectral radius below 1) and UnstableCount (modes with |lambda| > 1). With -PerMode it emits one RnnEigenMode per eigenvalue instead, with TimeConstant = -1/ln|lambda| steps (infinite at |lambda| = 1, negative for growing modes) and Period = 2 pi/|angle| steps (infinite for a real positive eigenvalue), ready for Export-Csv; for a model with a time step (Import-RnnModel -Dt) both are in its time unit, and each row also has Dt and ContinuousEigenvalue = ln(lambda) / Dt. With -LeftEigenvectors, RnnEigen also has LeftEigenvectors (row k of the inverse of the eigenvector matrix: LeftEigenvectors[k] J = lambda_k LeftEigenvectors[k], and the sum over i of LeftEigenvectors[k][i] Eigenvectors[j][i] is 1 for k = j and 0 otherwise, plain products without conjugation) and ConditionNumbers (|l_k| |r_k|, each eigenvalue''s sensitivity; 1 for a symmetric J). With -PerMode -LeftEigenvectors the rows are RnnEigenModeSelection objects (RnnEigenMode rows with more), each with what Mante et al. (2013) read off a fixed point: RightEigenvector r_k; SelectionVector l_k (the left eigenvector); InputOverlap (l_k times each column of the input Jacobian J_x: how strongly each input drives the mode); and, when the model has a readout, OutputOverlap (C r_k per output, where C is the readout''s Jacobian d output / d state) and Gain, [output][input] = Re[(C r_k)(l_k J_x) / (1 - lambda_k)]: the mode''s part of the readout''s steady-state response to a constant change of the inputs. That steady state is the linearisation''s: it describes the network at a fixed point (pipe Find-RnnFixedPoint''s points); at other states the gains are those of the linear map there, not of the network. Summed over all modes the gains give the linear response C (I - J)^-1 J_x; the two modes of a complex pair carry equal halves of the pair''s real total. A Jacobian without a basis of eigenvectors (defective) gets the error JacobianDefective. Entries of a Jacobian below the unit roundoff (2^-53) of its largest are set to zero before the decomposition: they change no eigenvalue beyond rounding, but at saturated states (an LSTM under a large input leaves entries of 1e-94 beside ones of 1) LAPACK''s balancing otherwise returns eigenvectors with |J v - lambda v| of 1e-3. Takes states (with -Model) or RnnJacobian objects from Get-RnnJacobian (their OutputJacobian gives the readout overlaps).'
        Inputs      = 'Objects with State (and optionally Input, Index), by property name, with -Model; or RnnJacobian objects (Get-RnnJacobian), by value.'
        Outputs     = 'RnnEigen, one per state; RnnEigenMode, one per eigenvalue, with -PerMode (RnnEigenModeSelection with -LeftEigenvectors); RnnTopEigen, one per state, with -Top (RnnTopEigenMode, one per mode, with -Top -PerMode).'
        Links       = @('Get-RnnJacobian', 'Find-RnnFixedPoint', 'Export-RnnPlot', 'about_RnnLinearization')
        Defaults    = @{ Input = 'zeros (the autonomous dynamics)'; Index = 'its position in the stream'; Region = 'the whole network'; Top = 'all modes (the full decomposition)' }
        Parameters  = @{
            Model          = 'The network, needed when states, not Jacobians, come in: from Import-RnnModel or New-RnnModel, or the path of a model file (loaded as Import-RnnModel loads it without options).'
            Input          = 'The input x at the state; zeros when not given.'
            State          = 'The state h whose state Jacobian is decomposed.'
            Index          = 'A number carried to the output; the position in the stream when not given.'
            InputObject    = 'RnnJacobian objects from Get-RnnJacobian, decomposed without a model.'
            Sort           = 'Magnitude (default): largest |lambda| first. None: LAPACK''s order, as the reference eigendecomposition returns it.'
            PerMode        = 'Emits one RnnEigenMode per eigenvalue (Index, Mode, Real, Imaginary, Magnitude, Angle, TimeConstant, Period).'
            NoEigenvectors = 'Skips the eigenvectors, which is faster; -PerMode implies it unless -LeftEigenvectors is given.'
            LeftEigenvectors = 'Also computes the left eigenvectors (one inverse of the eigenvector matrix per state, about 40% more work than the eigenvectors alone); with -PerMode, each mode''s selection vector, input and readout overlaps, steady-state gain and condition number.'
            BatchSize      = 'How many states are decomposed together (default 256); capped so that a batch''s matrices stay near 512 MB (64 states at 1,024 units), with a verbose message.'
            SourcePath = 'The file a piped state was read from, bound from the Path property that Import-RnnState sets (hidden): a state of the wrong length there stops the command with one error that names the file, both widths and the likely cause, instead of one error per row.'
            SourceRow  = 'The row''s number in the state file a piped state was read from, bound from Import-RnnState''s SourceRow (hidden): carried to the results, so that the parts of shards join in the file''s order (Join-RnnResult).'
            Trial      = 'The trial of a piped state, bound from the Trial that Get-RnnTrajectory -InputFile sets (hidden): carried to the results, to group or colour them by trial.'
            Region         = 'The spectrum of one region''s own block of the state Jacobian. Needs a model loaded with -RegionMap.'
            Top            = 'Only the k modes nearest 1 in the complex plane (the slowest and the unstable ones: the time constants that matter), or the k largest with -ByMagnitude, without the full decomposition: Krylov-Schur on (J - I)^-1 (one LU, then a solve per step) or on J, from a seeded start vector, so results repeat. Emits RnnTopEigen: Target, Eigenvalues (nearest 1 first, or largest first; a complex pair is never split, so k + 1 modes when the k-th is the first of a pair), Real, Imaginary, Magnitude, Eigenvectors (unless -NoEigenvectors), Residuals (|J v - lambda v| for each unit v, computed with J itself: each pair is an exact eigenpair of a matrix that close to J), Converged (every mode met its tolerance, by J''s own residuals), Method (KrylovSchur; or Full where the full decomposition was taken instead and cut: below 64 state values, for k within 12 of the state size, for an eigenvalue at 1 to working precision, for a search that did not converge before its operations reached those of the full eigenvalues (10 S^3; the full decomposition is then taken as well, so such a state costs 2.5 to 4.5 times the full decomposition with eigenvectors, and up to 8 times the eigenvalues alone with -NoEigenvectors), for exactly repeated eigenvalues, which one start vector cannot resolve, and where units decoupled at saturation (a row that is its diagonal alone to rounding: a GRU unit with z = 1, an LSTM cell with f = 1) share a value that ranks with the top modes, which the search would find only once), Separated (mode k is apart from the next candidate by more than both their uncertainties; false in a near-tie, where which k modes are the first k is not well posed, as in the bulk of a trained spectrum), SpectralRadius (with -ByMagnitude: |lambda_1|; otherwise empty, since stability is not known from part of the spectrum). With -PerMode, RnnTopEigenMode rows (RnnEigenMode rows with a Residual) of the k modes in the target''s order (Mode 0 nearest 1, or largest; the full decomposition''s Mode numbers are by magnitude), each with its Residual. -Verbose says why the full decomposition was taken where it was. A k larger than the state size gives all the modes, with a warning. The search pays off for k up to a few tens: for k of 40 and more, or where most modes are near-ties (many |lambda| near 1 with -ByMagnitude), it takes as long as the full decomposition or longer. -Sort is refused with -Top (ConflictingParameters: the order is the target''s). A residual bounds an eigenvalue''s error for a normal J; for others the error can be larger by the eigenvalue''s condition number, which Separated does not see. RnnTopEigen rows are not drawn by Export-RnnPlot (their spectra are partial): pipe -Top -PerMode rows. Not with -LeftEigenvectors.'
            ByMagnitude    = 'With -Top: the k modes of largest magnitude (the spectral radius first) instead of those nearest 1.'
            Precision      = 'Double (default), or Single for float32 tensor arithmetic: faster for large eigendecompositions, with float32 rounding (relative errors near 1e-6). Outputs stay double.'
        }
        Examples    = @(
            @{ Code = 'Get-RnnEigen -Model $m -Input 0.1,0,-0.2 -State $h | Format-List'; Remarks = 'The spectrum at one state.' }
            @{ Code = 'Import-RnnState ./states.npy | Get-RnnEigen -Model $m -PerMode | Export-Csv modes.csv'; Remarks = 'One CSV row per mode and state, with time constants and periods.' }
            @{ Code = 'Get-RnnEigen -Model $m -State $h -Top 3 | Format-List Target, Eigenvalues, Residuals, Converged, Separated'; Remarks = 'The three modes nearest 1 (the slowest), each with its certifying residual, without the full decomposition.' }
            @{ Code = 'Get-RnnJacobian -Model $m -State $h | Get-RnnEigen -Sort None'; Remarks = 'Decomposes Jacobians already computed, in LAPACK''s order (as the reference eigendecomposition).' }
            @{ Code = 'Find-RnnFixedPoint -Model $m -InitialState $starts | Where-Object Kind -eq Stable | Get-RnnEigen -Model $m -PerMode -LeftEigenvectors | Where-Object Mode -lt 3 | Format-Table Index, Mode, Magnitude, TimeConstant, @{ n = ''InputOverlap''; e = { ($_.InputOverlap | ForEach-Object { $_.Magnitude.ToString(''0.00'') }) -join '', '' } }'; Remarks = 'The three slowest-decaying modes of each memory of a network and how strongly each input drives them (|l_k J_x|): the selection vectors of Mante et al. (2013).' }
            @{ Code = '$modes = Get-RnnEigen -Model $m -State $h -PerMode -LeftEigenvectors; $total = 0; foreach ($mode in $modes) { $total += $mode.Gain[0][0] }; $total'; Remarks = 'The readout''s steady-state response (output 0) to a unit step of input 0, as the sum of the modes'' gains; the model must have a readout.' }
        )
    }
    'Invoke-RnnLinearization' = @{
        Synopsis    = 'Applies the first-order Taylor step of the network at a state to a batch of perturbations.'
        Description = 'For each state h (with input x) and each perturbation row dH[r] of -DeltaState, emits an RnnLinearizedStep whose Linear = F(h, x) + J_h dH[r] + J_x dx: the reference Linearization.forward. With -Exact it also computes Exact = F(h + dH[r], x + dx), Error = Exact - Linear and ErrorNorm, to show how far the linearisation holds.'
        Inputs      = 'Objects with State (and optionally Input, Index) properties, by property name.'
        Outputs     = 'RnnLinearizedStep, one per state and perturbation row.'
        Links       = @('Get-RnnJacobian', 'about_RnnLinearization')
        Defaults    = @{ Input = 'zeros (the autonomous dynamics)'; Index = 'its position in the stream'; DeltaInput = 'zeros' }
        Parameters  = @{
            Model      = 'The network, from Import-RnnModel or New-RnnModel, or the path of a model file (loaded as Import-RnnModel loads it without options).'
            Input      = 'The input x at the state; zeros when not given.'
            State      = 'The state h to expand about.'
            Index      = 'A number carried to the output; the position in the stream when not given.'
            DeltaInput = 'The input perturbation dx (InputSize numbers); zeros when not given.'
            DeltaState = 'State perturbations, one row of StateSize numbers each. A flat list of StateSize numbers is one perturbation.'
            Exact      = 'Also computes the true next state at each perturbed point and the error of the linear step.'
            BatchSize  = 'How many states are gathered before computing (default 256); capped so that a batch''s state-by-state matrices stay near 512 MB, with a verbose message.'
            SourcePath = 'The file a piped state was read from, bound from the Path property that Import-RnnState sets (hidden): a state of the wrong length there stops the command with one error that names the file, both widths and the likely cause, instead of one error per row.'
            SourceRow  = 'The row''s number in the state file a piped state was read from, bound from Import-RnnState''s SourceRow (hidden): carried to the results, so that the parts of shards join in the file''s order (Join-RnnResult).'
            Trial      = 'The trial of a piped state, bound from the Trial that Get-RnnTrajectory -InputFile sets (hidden): carried to the results, to group or colour them by trial.'
            Precision  = 'Double (default), or Single for float32 tensor arithmetic: faster for large eigendecompositions, with float32 rounding (relative errors near 1e-6). Outputs stay double.'
        }
        Examples    = @(
            @{ Code = '$dH = foreach ($k in 1..4) { , [double[]](1..$m.StateSize | ForEach-Object { 0.01 * $k * [math]::Sin($_ * $k) }) }; Invoke-RnnLinearization -Model $m -State $h -DeltaState $dH -Exact | Format-Table Row, @{ n = ''ErrorNorm''; e = { $_.ErrorNorm.ToString(''0.00e+0'') } }'; Remarks = 'How well the linear step predicts the true step for four perturbations of growing size (formatted so that small errors are not rounded to 0).' }
            @{ Code = 'Invoke-RnnLinearization -Model $m -Input 0,0,0 -State $h -DeltaInput 0.5,0,0 -DeltaState (, [double[]]::new($m.StateSize)) -Exact | Select-Object ErrorNorm'; Remarks = 'The effect of an input pulse of 0.5 on the first channel: the linear step against the true one.' }
            @{ Code = '$traj | Invoke-RnnLinearization -Model $m -DeltaState (, [double[]](1..$m.StateSize | ForEach-Object { 0.05 })) -Exact | Measure-Object ErrorNorm -Maximum'; Remarks = 'The worst error of the Taylor step along a trajectory, for one fixed perturbation.' }
        )
    }
    'Find-RnnFixedPoint' = @{
        Synopsis    = 'Finds the fixed points and slow points of the network under a constant input, with their stability, time constants and readouts.'
        Description = 'Minimises q(h) = 1/2 |F(h, u) - h|^2 from many starting states at once (piped states, bound by their State property, or -InitialState; -Count draws that many of them with replacement and -Noise adds Gaussian noise). The default method, Newton, works in a trust region (Powell''s dogleg): the Newton step on F(h, u) - h (from the closed-form Jacobian) when it fits in the region, else the steepest-descent step of q, or the point between them on the region''s edge; a step is taken only when q falls, so q never increases. The first steps are small, so each start ends where descent on q takes it; near a root the steps are Newton''s, and q reaches about 1e-30 in 5 to 13 iterations. At slow points, the local minima of q above zero, the steepest-descent steps settle. From 128 units on, a start''s later Newton steps are solved by GMRES preconditioned with the LU of its own last factorisation (to a residual of at most 1e-2 of F(h, u) - h, less as it shrinks), which costs a fraction of a new LU; a start''s result never depends on the other starts searched with it, so searches split into shards (-Shard) join into the one-process result. -Method Adam runs the procedure of the fixed-point toolkits (Golub and Sussillo''s FixedPointFinder): Adam on the mean q of all starts with a learning rate cut by -LearningRateFactor on plateaus, stopping when every start has q < -TolQ or |dq| < -TolDq times the learning rate; their hyper-parameter names work as aliases (tol_q, tol_dq, max_iters, lr_init, tol_unique, outlier_distance_scale). Everything runs in float64. Then points with q above -MaxQ are dropped, and so are points farther from the starts'' centroid than -OutlierDistance times the starts'' mean distance to it; points closer than -UniqueTolerance in every coordinate are merged (the lower q is kept, StartCount counts the starts). Each point is emitted as an RnnFixedPoint: Kind (Stable: no eigenvalue of the state Jacobian outside the unit circle; Saddle: some; Unstable: all; Slow: a certified local minimum of q above -TolQ, where |grad q| is at most -TolGrad times |F(h, u) - h|; Failed, with -All only: a start that ended nowhere), Outcome (Converged, Slow, Stalled: no step lowers q or q and |grad q| stopped falling; IterationLimit), Gradient (|grad q|), Q, Iterations, StartCount, SpectralRadius, IsStable, UnstableCount, Eigenvalues (sorted by magnitude), TimeConstants (-1/ln|lambda| steps, in the same order; in the model''s time unit when it has a Dt, with Dt and ContinuousEigenvalues = ln(lambda) / Dt), SlowestTimeConstant, LineAttractorScore (log2(|1 - lambda_2| / |1 - lambda_1|) of the two modes with the smallest |1 - lambda|) and Output (the readout). Starts that failed are never kept (only -All shows them). Unless -NoProbes or -All is given, the search then runs again from probes and keeps what is new: first from A + B - C for each stable point C and two of its four nearest (the fourth corner of a face, where memories sit at the corners of a cube, as a flip-flop''s do: it finds the memories no start reached), then from the midpoint of every pair of stable points (the saddles between memories). On trained flip-flops this finds the memories and saddles that descent from the starts misses, as the toolkits'' Adam finds them. What became of every start is said in the verbose stream, as a warning when a quarter of them or more failed, and as an information record that -InformationVariable captures (a FixedPointSummary: Starts, Converged, Slow, Stalled, IterationLimit, Failed (the last two), Points (kept, or emitted with -All), SlowDropped (slow points above -MaxQ), HighestSlowQ, LowestFailedQ (NaN when there are none), All). Results pipe into Get-RnnEigen, Get-RnnJacobian and Invoke-RnnLinearization (with -Model). Long searches report progress; Ctrl+C stops them.'
        Inputs      = 'Objects with a State property (starting states), by property name: RnnState (Get-RnnTrajectory, Import-RnnState), RnnFixedPoint.'
        Outputs     = 'RnnFixedPoint, one per point found (ordered by Kind, then by first start).'
        Links       = @('Get-RnnEigen', 'Get-RnnFlowField', 'Export-RnnPlot', 'about_RnnLinearization')
        Defaults    = @{ Input = 'zeros (the autonomous dynamics)'; Count = 'each state once'; Seed = 'a different random seed each call'; MaxIterations = '100 (Newton), 5000 (Adam)'; MaxQ = 'the value of -TolQ' }
        Parameters  = @{
            LeftEigenvectors = 'Each point also gets Modes: one RnnEigenMode per eigenvalue with its right and left eigenvectors (the selection vector), input overlaps, readout overlaps, steady-state gains and condition number, as Get-RnnEigen -PerMode -LeftEigenvectors gives them (an eigendecomposition with eigenvectors and an inverse per point).'
            SourcePath = 'The file a piped state was read from, bound from the Path property that Import-RnnState sets (hidden): a file whose states have the wrong length stops the command with one error (StateFileWidthMismatch) that names the file, both widths and the likely cause, instead of one error per row.'
            PipedObject = 'The piped object itself, bound by value (hidden): an object without a State is reported (InputObjectHasNoState), and when every piped state carries one same Input other than the one the command runs at, a warning says so (give -Input to run at theirs).'
            Shard      = 'With -ShardCount: this run searches from that contiguous slice (0 to ShardCount - 1) of the starts, drawn as without it (so give -Seed with -Count or -Noise: every task draws the same starts). With -All, Index and FirstStart are each start''s number among all the starts, so the parts of an array job join into the one-process result.'
            ShardCount = 'How many slices the starts are cut into (default 1: all of them).'
            Model                = 'The network, from Import-RnnModel or New-RnnModel, or the path of a model file (loaded as Import-RnnModel loads it without options).'
            Input                = 'The constant input u under which points are fixed; zeros (the autonomous dynamics) when not given. The inputs of piped objects are not used.'
            State                = 'A starting state, bound by property name from piped objects (Get-RnnTrajectory, Import-RnnState, another search''s points).'
            InitialState         = 'Starting states given as an array of arrays instead of piped, or the path of a state file (.csv, .npy, .npz, .json, read as Import-RnnState reads it).'
            Count                = 'Draws this many starts, with replacement, from the states given. Default: each state once.'
            Noise                = 'Standard deviation of Gaussian noise added to every start (default 0).'
            Seed                 = 'Seed for -Count and -Noise, for repeatable searches.'
            Method               = 'Newton (default) or Adam.'
            TolQ                 = 'tol_q (default 1e-12): points with q at most this are fixed points; above it, slow points. Adam also stops a start at this q.'
            TolGrad              = 'tol_grad (default 1e-6): a point with q above -TolQ is a slow point (Kind Slow, a local minimum of q) only where |grad q| is at most this times |F(h, u) - h|; a start that ends short of both is Kind Failed (Outcome Stalled or IterationLimit), never Slow.'
            TolDq                = 'tol_dq (default 1e-20), Adam only: a start is done when |dq| is below this times the learning rate.'
            MaxIterations        = 'max_iters: at most this many iterations. Default: 100 for Newton, 5000 for Adam.'
            LearningRate         = 'lr_init, Adam only: the initial learning rate (default 1.0).'
            LearningRateFactor   = 'lr_factor, Adam only: the learning rate is multiplied by this on a plateau (default 0.95).'
            LearningRatePatience = 'lr_patience, Adam only: iterations without a relative 1e-4 improvement of the mean q before the rate is cut (default 2, as the toolkit''s scheduler runs).'
            LearningRateCooldown = 'lr_cooldown, Adam only: iterations after a cut before plateaus count again (default 0).'
            MaxQ                 = 'Points with q above this are dropped. Default: -TolQ, so only fixed points are kept; give a larger value (1e-4, say) to keep slow points too, with Kind Slow.'
            UniqueTolerance      = 'tol_unique (default 1e-3): points closer than this in every coordinate are one.'
            OutlierDistance      = 'outlier_distance_scale (default 10): points farther from the starts'' centroid than this many times the starts'' mean distance to it are dropped. 0 keeps them.'
            All                  = 'Emits every start''s result, not filtered or merged, in the order of the starts (StartCount 1, Index and FirstStart = the start''s number). No probes run.'
            NoProbes             = 'Leaves out the probes: by default, after the search, the search runs again from the completions A + B - C of stable points found (C and two of its four nearest: the fourth corner of a face, where memories no start reached lie when memories sit on a cube; two rounds), then from the midpoint of every pair of stable points (the 1,024 nearest pairs at most), where the saddles between memories lie and where descent from the starts rarely ends; a point found only by a probe has StartCount 0 and FirstStart -1.'
        }
        Examples    = @(
            @{ Code = '$traj | Find-RnnFixedPoint -Model $m -Count 512 -Noise 0.5 -Seed 1 | Format-Table'; Remarks = 'Searches from 512 noisy states of the trajectory of the bundled flip-flop network: the 8 stable memory states (Output: their sign patterns) and the saddles between them.' }
            @{ Code = 'Find-RnnFixedPoint -Model $m -InitialState $starts | Where-Object IsStable | Select-Object Index, @{ n = ''Q''; e = { $_.Q.ToString(''0.0e+0'') } }, SlowestTimeConstant, @{ n = ''Output''; e = { $_.Output -join '', '' } }'; Remarks = 'The stable points only, with their slowest time constant and readout.' }
            @{ Code = 'Import-RnnState ./states.npy | Find-RnnFixedPoint -Model $m -MaxQ 1e-4 | Where-Object Kind -eq Slow'; Remarks = 'Keeps slow points (local minima of q up to 1e-4) as well as fixed points, and shows the slow ones.' }
            @{ Code = 'Find-RnnFixedPoint -Model $m -InitialState $starts -Method Adam -tol_q 1e-10 -max_iters 35000 -tol_unique 0.1'; Remarks = 'The toolkits'' Adam procedure, with their names for its settings.' }
            @{ Code = '$null = Find-RnnFixedPoint -Model $m -InitialState $starts -InformationVariable info; $info.MessageData | Format-List'; Remarks = 'The account of every start (how many converged, reached slow points, stalled or met the iteration limit, and the points kept) as an object.' }
            @{ Code = 'Find-RnnFixedPoint -Model $m -InitialState $starts -All | Group-Object Outcome | Select-Object Name, Count'; Remarks = 'Every start''s outcome: Converged, Slow, Stalled or IterationLimit.' }
            @{ Code = 'Find-RnnFixedPoint -Model $m -InitialState $starts | Get-RnnEigen -Model $m -PerMode | Export-Csv modes.csv'; Remarks = 'Every mode at every fixed point, with its time constant and period, to a CSV file.' }
        )
    }
    'Compare-RnnFixedPointGraph' = @{
        Synopsis    = 'Compares the fixed-point graphs of two networks: whether they have the same topology, as Maheswaranathan et al. (2019) compared architectures.'
        Description = 'Takes the RnnFixedPointEdge objects of two graphs (Get-RnnFixedPointGraph). A graph''s nodes are its stable points (those some run settled at) and the saddles left; a saddle joins the stable points its settled runs reached. The graphs are isomorphic when they have as many saddles of each index (number of unstable modes) and a one-to-one matching of their stable points carries every index-1 saddle, with the two stable points its runs join, onto one of the other graph''s. Saddles of higher index are counted but not matched: which points their runs reach depends on the directions taken within an unstable subspace of two or more dimensions, while an index-1 saddle''s unstable manifold is one curve. It first tries the matching a scientist would make, each stable point to the one with the nearest readout (when both networks have readouts of the same width), then searches all matchings of points with the same profile. Counts decide first, whatever became of the runs: different numbers of stable points piped, or of saddles of some index, give Isomorphic False (MatchedBy Counts). Past them, graphs are compared only when they are complete: where a run reached no piped stable point, or a graph has no edges (no saddles), Isomorphic is left empty with a warning (MatchedBy Unsettled or NoEdges). Emits one RnnFixedPointGraphComparison: Isomorphic (empty when undecided or the search was cut off, with a warning), MatchedBy (Output, Structure, Counts when the numbers of stable points (all those piped to Get-RnnFixedPointGraph) or saddles differ, None when no matching exists (as when the saddles reach different numbers of stable points), Unsettled, NoEdges, SearchLimit), the matching found as ReferenceStable and DifferenceStable (Index pairs), the counts of stable points, saddles by index, links and runs that settled nowhere (which are left out).'
        Inputs      = 'RnnFixedPointEdge objects of the second graph, by value (-DifferenceEdge).'
        Outputs     = 'RnnFixedPointGraphComparison.'
        Links       = @('Get-RnnFixedPointGraph', 'Find-RnnFixedPoint', 'about_RnnLinearization')
        Defaults    = @{}
        Parameters  = @{
            ReferenceEdge  = 'The edges of the first graph (Get-RnnFixedPointGraph).'
            DifferenceEdge = 'The edges of the second graph, given or piped.'
        }
        Examples    = @(
            @{ Code = '$g1 = $traj | Find-RnnFixedPoint -Model $m -Count 512 -Noise 0.5 -Seed 1 | Get-RnnFixedPointGraph -Model $m; $g2 = $traj | Find-RnnFixedPoint -Model $m -Count 512 -Noise 0.5 -Seed 2 | Get-RnnFixedPointGraph -Model $m; Compare-RnnFixedPointGraph $g1 $g2'; Remarks = 'The graph of one network from two draws of starts: the same topology, matched by readout.' }
            @{ Code = '$g1 = $traj | Find-RnnFixedPoint -Model $m -Count 512 -Noise 0.5 -Seed 1 | Get-RnnFixedPointGraph -Model $m; $g2 = $traj | Find-RnnFixedPoint -Model $m -Count 512 -Noise 0.5 -Seed 1 -Input 0.05,0,0 | Get-RnnFixedPointGraph -Model $m; Compare-RnnFixedPointGraph $g1 $g2 | Format-List'; Remarks = 'Whether a constant input of 0.05 on the first channel changes the topology: memories vanish, so the counts differ. For two networks trained on one task (Maheswaranathan et al. 2019), give each its own -Model and starts.' }
        )
    }
    'Trace-RnnFixedPoint' = @{
        Synopsis    = 'Follows fixed points along a path of inputs and locates their bifurcations: where memories appear, vanish or change stability.'
        Description = 'Pseudo-arclength continuation of the fixed points F(h, u) = h along a path of inputs u(p): from -From to -To, along the corners of -InputPath, or with one input -Component swept over -Range (the other components from -Input). Starts are the piped points (Find-RnnFixedPoint at the path''s first input; any object with a State) or -InitialState; each is first corrected by Newton at the first input. Each step predicts along the branch''s tangent in (h, p) and corrects by Newton on [F(h, u(p)) - h = 0; the arclength condition], which stays regular where the branch turns back (a fold), so a branch is followed through its folds: memories that vanish as the input changes are followed onto the saddles they meet. Steps start at -StepSize (in the arclength of state and path parameter), halve when Newton does not converge or would jump, and grow to -MaxStepSize when it converges easily. Between points it detects and locates, by the Illinois method on the arclength: Fold (the branch turns: a real eigenvalue crosses +1), BranchPoint (a real eigenvalue crosses +1 without a turn: another branch crosses), Flip (a real eigenvalue crosses -1) and NeimarkSacker (a complex pair crosses the unit circle). Emits an RnnBranchPoint per point and per bifurcation located: Branch (which start), Step, Parameter (the component''s value with -Component; 0 to 1 from -From to -To; k + f on the k-th segment of -InputPath) and ParameterName (which of these, for axis labels), Input, State, Event (None or the bifurcation), IsStable, UnstableCount, SpectralRadius, NearestEigenvalues (the three nearest the unit circle), Output (the readout) and Residual (max |F(h, u) - h|). A branch ends at the path''s end, when it comes back past the start of a segment after folds (so a branch that turns back across a corner of -InputPath ends at the corner), when the step falls below 1e-9, or after -MaxSteps points; the verbose stream says which and lists the bifurcations. A start where Newton does not converge gets a BranchStartNotFixed error and the others go on; a start that Newton has to move (more than 1e-6) to reach a fixed point at the first input was not one there, and a warning says so (it follows whichever fixed point was near). A fold is reported on every branch that meets it: a memory''s branch and the saddle''s it meets both turn there. Two equal consecutive inputs of the path are refused (InvalidInputPath). Export-RnnPlot draws the bifurcation diagram: the path parameter against the readout (or the first principal component of the states), stable stretches solid, unstable dashed, bifurcations marked. Each step costs an LU of the bordered (S + 1) x (S + 1) Jacobian per Newton iteration and an eigendecomposition.'
        Inputs      = 'Objects with a State property, by property name: RnnFixedPoint (Find-RnnFixedPoint), RnnState.'
        Outputs     = 'RnnBranchPoint, one per point of each branch and one per bifurcation located.'
        Links       = @('Find-RnnFixedPoint', 'Export-RnnPlot', 'about_RnnLinearization')
        Defaults    = @{ Input = 'zeros'; StepSize = '0.02'; MaxStepSize = '0.1'; MaxSteps = '2000'; Tolerance = '1e-10' }
        Parameters  = @{
            Model        = 'The network, from Import-RnnModel or New-RnnModel, or the path of a model file.'
            State        = 'A fixed point to follow, bound from piped objects'' State (Find-RnnFixedPoint''s points at the path''s first input).'
            InitialState = 'Fixed points to follow, one row each, as well as or instead of piped ones.'
            From         = 'The first input of a straight path (with -To).'
            To           = 'The last input of a straight path (with -From).'
            InputPath    = 'Inputs, one row each, joined by straight segments: the path followed, corner by corner.'
            Component    = 'The input component swept (0-based), with -Range; the others are held at -Input.'
            Range        = 'Two values: where the swept -Component starts and ends.'
            Input        = 'With -Component: the input whose other components are held (zeros when not given).'
            StepSize     = 'The first step along a branch, in the arclength of (state, path parameter) (default 0.02).'
            MaxStepSize  = 'The largest step (default 0.1): smaller steps draw a smoother diagram.'
            MaxSteps     = 'Points per branch at most (default 2000).'
            Tolerance    = 'Newton''s tolerance on max |F(h, u) - h| (default 1e-10).'
        }
        Examples    = @(
            @{ Code = '$start = Find-RnnFixedPoint -Model $m -InitialState $starts -Input -1,0,0; $branches = $start | Trace-RnnFixedPoint -Model $m -Component 0 -Range -1, 1; $branches | Where-Object Event -ne None | Format-Table Branch, Parameter, Event, UnstableCount'; Remarks = 'The flip-flop''s fixed points as input 0 is swept from -1 to 1: the folds at which memories vanish.' }
            @{ Code = '$branches = Find-RnnFixedPoint -Model $m -InitialState $starts | Trace-RnnFixedPoint -Model $m -From 0,0,0 -To 0,0.8,0; $branches | Export-RnnPlot bifurcation.png'; Remarks = 'A bifurcation diagram: the readout against the input along the path, stable branches solid, unstable dashed.' }
        )
    }
    'Get-RnnFixedPointGraph' = @{
        Synopsis    = 'Joins each saddle to the stable points its unstable modes lead to: the fixed-point graph of Maheswaranathan et al. (2019).'
        Description = 'Takes the RnnFixedPoint objects of one search (Find-RnnFixedPoint, all at one input). From every point with unstable modes (a saddle, or an unstable point) it runs the network from h* + e v for each unstable mode v, both ways (e = -Perturbation, v the unit eigenvector; for a complex pair, -CircleDirections points on the circle of its real and imaginary parts), all runs in one batch, until the state is within -Tolerance of a piped stable point (Settled), stops at a fixed point that is none of them (Elsewhere: |F(h) - h| below 1e-10), becomes infinite (Diverged) or runs out of -MaxSteps (NotSettled). Each run is an RnnFixedPointEdge: From (the Index of the point left), FromKind, FromUnstableCount (its index as a saddle), Mode (its unstable modes counted in order of magnitude, a complex pair once), Eigenvalue, Direction (+1 or -1; for a complex pair 0 to -CircleDirections - 1), To (the Index of the stable point reached, or empty), Outcome, Steps, Distance (from the end state to the stable point reached, or the nearest one), Input, State (where the run ended), Path (at most 129 states along the run, for pictures), FromOutput and ToOutput (the readouts), StablePoints (how many stable points were piped). Export-RnnPlot draws the paths over the fixed points when both are piped. The verbose stream counts the outcomes, and a warning says when some run reached no piped stable point. Ctrl+C stops it.'
        Inputs      = 'RnnFixedPoint objects (Find-RnnFixedPoint), by value.'
        Outputs     = 'RnnFixedPointEdge, one per run: two per real unstable mode, -CircleDirections per complex pair.'
        Links       = @('Find-RnnFixedPoint', 'Export-RnnPlot', 'about_RnnLinearization')
        Defaults    = @{ Perturbation = '0.001'; MaxSteps = '5000'; Tolerance = '0.001'; CircleDirections = '4' }
        Parameters  = @{
            Model            = 'The network the points belong to: from Import-RnnModel or New-RnnModel, or the path of a model file.'
            InputObject      = 'The fixed points of one search, all of them: the unstable ones are left along their unstable modes, the stable ones are where runs settle.'
            Perturbation     = 'The Euclidean length of the step off the point along the mode (default 0.001): small, so that the run starts on the unstable manifold.'
            MaxSteps         = 'The steps a run may take before it is reported NotSettled (default 5000).'
            Tolerance        = 'The Euclidean distance to a stable point at which a run has reached it (default 0.001).'
            CircleDirections = 'How many points on the circle of a complex pair of unstable modes are tried (default 4).'
        }
        Examples    = @(
            @{ Code = '$fps = Find-RnnFixedPoint -Model $m -InitialState $starts; $fps | Get-RnnFixedPointGraph -Model $m | Where-Object FromUnstableCount -eq 1 | Format-Table From, Direction, To, Steps'; Remarks = 'Which two memories each index-1 saddle lies between: on a flip-flop, memories that differ in one bit.' }
            @{ Code = '$fps = Find-RnnFixedPoint -Model $m -InitialState $starts; $edges = $fps | Get-RnnFixedPointGraph -Model $m; @($fps) + @($edges) | Export-RnnPlot graph.png'; Remarks = 'A picture of the fixed points with the runs from each saddle to the memories it joins.' }
            @{ Code = 'Find-RnnFixedPoint -Model $m -InitialState $starts | Get-RnnFixedPointGraph -Model $m | Group-Object Outcome -NoElement'; Remarks = 'How many runs settled at a known stable point, and how many did not.' }
        )
    }
    'Get-RnnLyapunovSpectrum' = @{
        Synopsis    = 'The Lyapunov spectrum of a model along its own trajectories: how fast nearby states separate, and how many dimensions the dynamics use.'
        Description = 'The QR method (Benettin et al.; Engelken, Wolf and Abbott, PRR 2023): Count orthonormal tangent vectors are carried along each trajectory by the state Jacobians (closed form; autograd for TorchScript), Q_(t+1) = J_t Q_t, and re-orthonormalised by QR every -OrthonormalizeEvery steps; exponent i is the mean of log |R_ii| per step over -Steps steps, after -WarmUp steps that are discarded (the state settles onto its attractor, the vectors align). All trajectories run as one batch. Emits one RnnLyapunovSpectrum: Exponents (largest first: over a short run the QR method can give two near-equal exponents out of order, and its vectors are then put in order of their exponents, Lower, Upper and the local exponents with them), Lower and Upper (a 95% interval: from the spread of the trajectories'' estimates when several start points are given, else from the -Segments pieces of the one run, as batch means), MaxExponent, KaplanYorkeDimension (j + (l_1 + ... + l_j) / |l_(j+1)|, j the most exponents whose sum is not negative), EntropyBound (the sum of the positive exponents), Sum (over the full spectrum, the mean of log |det J| per step) and Unit: 1/step, or 1/time with -Dt (each rate divided by Dt). How long to run: the interval shrinks as 1/sqrt(Steps); a chaotic rate network of 100 units needs about 10,000 steps for its largest exponent to 2-3%, and the warm-up should be long enough for the slowest decay (a few times the longest time constant). A positive largest exponent is chaos; one exponent at 0 (within its interval) is a limit cycle or a continuous attractor; all negative is a fixed point. Run alone, without initial states, one trajectory starts from a random state (s.d. 0.5, from -Seed); a pipeline that brings no states (an empty search) is an error, NoInitialStates, not a random start. When the run is too short for an interval (fewer than two segments with steps), Lower and Upper are NaN and a warning says so. Stop (Ctrl+C) ends it within a second.'
        Inputs      = 'Objects with a State property (RnnState, RnnFixedPoint): one trajectory from each.'
        Outputs     = 'RnnLyapunovSpectrum, or RnnLyapunovExponent rows with -PerExponent.'
        Links       = @('Get-RnnTrajectory', 'Get-RnnEigen', 'Export-RnnPlot', 'about_RnnLinearization')
        Parameters  = @{
            Model               = 'The model (from Import-RnnModel or New-RnnModel).'
            State               = 'A trajectory''s initial state, bound by property name from the pipeline.'
            SourcePath          = 'The file a piped state was read from, bound from the Path property that Import-RnnState sets (hidden): a file whose states have the wrong length stops the command with one error (StateFileWidthMismatch).'
            PipedObject = 'The piped object itself, bound by value (hidden): an object without a State is reported (InputObjectHasNoState), and when every piped state carries one same Input other than the one the command runs at, a warning says so (give -Input to run at theirs).'
            InitialState        = 'Initial states as an array of arrays, or the path of a state file: one trajectory from each.'
            Input               = 'The input held at every step; zeros when neither this nor -InputSequence is given.'
            InputSequence       = 'The input at each step, the same for every trajectory, cycled when shorter than -WarmUp plus -Steps (a driven network).'
            InputFile           = 'Inputs of several trials, [trials, steps, inputs] in a .npy (or inputs in an .npz, as numpy.savez writes): one trajectory per trial, each driven by its own sequence (cycled when shorter than the run), from its own initial state (one per trial) or all from the one given.'
            Steps               = 'Steps over which the exponents are averaged, after the warm-up (default 1,000).'
            WarmUp              = 'Steps run first and discarded (default 200).'
            OrthonormalizeEvery = 'Steps between QR re-orthonormalisations (default 10; fewer when the tangent vectors collapse onto one direction faster, as in strongly chaotic networks).'
            Count               = 'How many exponents, the largest first; all of them (the state size) when not given. The cost grows with it.'
            Dt                  = 'The model''s time step: rates per time unit (each exponent per step divided by Dt), as the rate-network literature reports them. Default: the model''s own Dt (Import-RnnModel -Dt), else per step.'
            Segments            = 'Pieces the averaged steps are cut into, for the interval of a single trajectory and for -Local (default 10).'
            Seed                = 'Seed of the random orthonormal tangent vectors (and of the random initial state when none is given).'
            Local               = 'Adds LocalExponents: each segment''s exponents (finite-time exponents), rows trajectory by trajectory.'
            PerExponent         = 'Emits one RnnLyapunovExponent row (Index, Exponent, Lower, Upper, Unit) per exponent instead of one spectrum: for tables and Export-Csv.'
        }
        Examples    = @(
            @{ Code = 'Get-RnnLyapunovSpectrum -Model $m -Steps 2000 | Format-List MaxExponent, KaplanYorkeDimension, Exponents'; Remarks = 'The bundled flip-flop ($m = Import-RnnModel ./examples/flipflop_rnn.pt) from a random state with no input: it settles at a memory, so every exponent is negative (the log of the spectral radius there, and below).' }
            @{ Code = 'Get-RnnTrajectory -Model $m -InputSequence $inputs | Select-Object -Last 8 | Get-RnnLyapunovSpectrum -Model $m -Steps 5000 -Dt 0.1 | Export-RnnPlot ./lyapunov.png'; Remarks = 'Eight trajectories from the last states of a run driven by $inputs (the interval then comes from their spread), rates per time unit, drawn with their intervals.' }
            @{ Code = 'Get-RnnLyapunovSpectrum -Model $m -Count 5 -PerExponent | Export-Csv ./largest.csv'; Remarks = 'The five largest exponents as rows.' }
        )
    }
    'Get-RnnFlowField' = @{
        Synopsis    = 'Computes the flow of the network''s update, F(h, u) - h, on a grid in a plane of state space.'
        Description = 'The plane goes through -Center (default: the mean of the piped states) along the first two principal components of the piped states, or along -Axes (two vectors, made orthonormal). The grid has -GridSize points along each axis, from -Extent to +Extent (default: 1.2 times the states'' largest coordinate along each axis). Each grid point is emitted as an RnnFlowPoint: X and Y (its plane coordinates), VX and VY (the velocity F(h, u) - h projected on the two axes), Speed (|F(h, u) - h| in the whole state space), State (the grid point h, full length), Velocity (the full velocity) and Output (the readout at h). With -Linear -AroundState h0 the velocity is that of the linearised step about h0, F(h0) + J(h0) (h - h0) - h.'
        Inputs      = 'Objects with a State property (the states that define the plane), by property name.'
        Outputs     = 'RnnFlowPoint, one per grid point (Y slowest).'
        Links       = @('Find-RnnFixedPoint', 'Export-RnnPlot')
        Defaults    = @{ Input = 'zeros (the autonomous dynamics)'; Axes = 'the first two principal components of the piped states'; Extent = '1.2 times the piped states largest coordinate along each axis, or 1'; Center = 'the mean of the piped states, or the origin' }
        Parameters  = @{
            SourcePath = 'The file a piped state was read from, bound from the Path property that Import-RnnState sets (hidden): a file whose states have the wrong length stops the command with one error (StateFileWidthMismatch) that names the file, both widths and the likely cause, instead of one error per row.'
            Model       = 'The network, from Import-RnnModel or New-RnnModel, or the path of a model file (loaded as Import-RnnModel loads it without options).'
            Input       = 'The constant input u; zeros when not given.'
            State       = 'States that define the plane, its centre and its extent, bound by property name from piped objects (trajectory states, fixed points).'
            Axes        = 'Two vectors of the state''s length that span the plane instead of the principal components; the second is made orthogonal to the first, both unit length.'
            GridSize    = 'Grid points along each axis (default 10, as the toolkit''s FlowFieldFinder).'
            Extent      = 'Half-width of the grid along both axes (one value) or along each (two values). Default: 1.2 times the piped states'' largest coordinate along each axis, or 1.'
            Center      = 'The plane''s centre, a full state. Default: the mean of the piped states, or the origin.'
            Linear      = 'Computes the flow of the linearised (affine) step about -AroundState instead of the network''s.'
            AroundState = 'With -Linear: the state h0 to linearise about.'
        }
        Examples    = @(
            @{ Code = '$traj = Get-RnnTrajectory -Model $m -InputSequence $inputs; $traj | Get-RnnFlowField -Model $m -GridSize 20 | Export-Csv flow.csv'; Remarks = 'The flow on a 20 x 20 grid in the plane of the trajectory''s first two principal components.' }
            @{ Code = '$fp = Find-RnnFixedPoint -Model $m -InitialState $starts | Select-Object -First 1; $traj | Get-RnnFlowField -Model $m -Linear -AroundState $fp.State -Center $fp.State -Extent 0.2'; Remarks = 'The linearised flow about a fixed point, on a small grid centred on it.' }
        )
    }
    'Get-RnnTrajectory' = @{
        Synopsis    = 'Runs the network over an input sequence and emits the state after each step.'
        Description = 'Emits one RnnState per time step t (per trial with -InputFile, with its Trial), each the step the network took: Index (t), State (the state the step starts from: -InitialState, zeros when not given, for the first), Input (the input of step t), NextState (the state it reaches, F(State, Input): the trajectory''s state at time t) and Output (the readout at NextState, when the model has one). Piped into Get-RnnJacobian, Get-RnnEigen or Invoke-RnnLinearization with the same -Model, each record is linearised at (State, Input), the step that was taken, so their NextState is the trajectory''s; Find-RnnFixedPoint and Get-RnnFlowField take the States. For an LSTM, whose state is [h; c] per layer, each also carries Hidden and Cell (all layers'' h and c of State) and NextHidden and NextCell.'
        Inputs      = 'None.'
        Outputs     = 'RnnState, one per time step.'
        Links       = @('Get-RnnJacobian', 'Export-RnnState', 'Export-RnnPlot', 'about_RnnLinearization')
        Defaults    = @{ InitialState = 'zeros' }
        Parameters  = @{
            Model         = 'The network, from Import-RnnModel or New-RnnModel, or the path of a model file (loaded as Import-RnnModel loads it without options).'
            InputSequence = 'One input vector per time step.'
            InputFile     = 'Inputs of several trials in one file, as numpy keeps them: an array [trials, steps, inputs] in a .npy (numpy.save), or inputs in an .npz (numpy.savez); a 2-D [steps, inputs] array, in either, is one trial, float32 or float64. Each trial runs from the initial state; its records carry Trial (0-based) and Index, the step within the trial.'
            InitialState  = 'The state before the first step (of every trial); zeros when not given.'
        }
        Examples    = @(
            @{ Code = '$free = 1..100 | ForEach-Object { , [double[]](0, 0, 0) }; Get-RnnTrajectory -Model $m -InputSequence $free -InitialState $h'; Remarks = 'Lets the network run freely for 100 steps from a state.' }
            @{ Code = 'Get-RnnTrajectory -Model $m -InputSequence $inputs | Select-Object -Last 5 Index, @{ n = ''Output''; e = { ($_.Output | ForEach-Object { $_.ToString(''0.00'') }) -join '', '' } }'; Remarks = 'The readout at the last five steps.' }
            @{ Code = 'Get-RnnTrajectory -Model $m -InputSequence $inputs | Export-RnnState ./run.csv'; Remarks = 'Saves the run: each state with the input applied at it.' }
            @{ Code = 'Get-RnnTrajectory -Model $m -InputFile ./trials.npy | Group-Object Trial | ForEach-Object { $_.Group[-1].Output }'; Remarks = 'Every trial of a file [trials, steps, inputs] (numpy.save(path, x)), and the readout at the end of each. (Make one with: python -c "import numpy as np; np.save(''trials.npy'', np.zeros((4, 30, 3)))".)' }
        )
    }
    'Import-RnnState' = @{
        Synopsis    = 'Reads states (and the inputs at them) from .csv, .npy, .npz or .json files for the analysis cmdlets.'
        Description = 'Emits one RnnState per row: Index (the file''s index, or the row number), State, Input (the input applied at the state, when the file gives one: the step from State under Input, the convention of Get-RnnTrajectory''s records), Path and SourceRow (the row''s number in the whole file, the same in every shard; Get-RnnJacobian, Get-RnnEigen and Invoke-RnnLinearization carry it to their results, and Join-RnnResult orders parts by it). CSV: numeric columns; a header line names them: a column named index is the Index, columns whose names start with input (or x0, u0, ...) are the Input, every other column is the State; without a header every column is the State. NPY: float32 or float64, 1-D (one state) or 2-D (one state per row), C order, as numpy.save writes. NPZ (numpy.savez): an array states [N, S], and optionally inputs [N, I] and index [N]. JSON: an array of number arrays, or of objects with a State array (and optionally Input and Index), or one such object. An empty file is an error (EmptyStateFile). Piped into an analysis cmdlet, Find-RnnFixedPoint or Get-RnnFlowField, a file whose rows do not have the model''s state length stops it with one error (StateFileWidthMismatch) that names the file, both widths and the likely cause (an index column, inputs without a header). Export-RnnState writes these files.'
        Inputs      = 'System.String: file paths, by value or as FullName from Get-ChildItem.'
        Outputs     = 'RnnState, one per row.'
        Links       = @('Export-RnnState', 'Get-RnnJacobian', 'about_RnnLinearization')
        Parameters  = @{
            Shard      = 'With -ShardCount: which contiguous slice of each file''s rows to read, 0 to ShardCount - 1 (in a Slurm array job, $env:SLURM_ARRAY_TASK_ID). Index stays the row''s number in the whole file; .npy and .npz read only the slice''s bytes, .csv and .json pass the other rows without parsing them.'
            ShardCount = 'How many slices each file''s rows are cut into: every row in exactly one, their sizes differing by at most one (default 1: the whole file). A shard beyond the rows holds none (a verbose message says so).'
            Path = 'One or more state files; accepts FullName from Get-ChildItem.'
        }
        Examples    = @(
            @{ Code = 'Import-RnnState ./states.npy | Get-RnnEigen -Model $m -Input 0,0,0'; Remarks = 'The spectrum at every saved state, at a fixed input.' }
            @{ Code = 'Import-RnnState ./steps.csv | Get-RnnJacobian -Model $m'; Remarks = 'A CSV with the header index,state_0,...,input_0,...: each row linearised at its own state and input.' }
            @{ Code = 'Import-RnnState ./run.npz | Find-RnnFixedPoint -Model $m -Count 256 -Noise 0.3'; Remarks = 'Fixed points searched from saved states (np.savez(path, states=..., inputs=...)).' }
        )
    }
    'Export-RnnState' = @{
        Synopsis    = 'Writes states, with their inputs and indices, to a .csv, .json, .npy or .npz file that Import-RnnState reads back exactly.'
        Description = 'Takes State, Input and Index by property name from the pipeline (Get-RnnTrajectory, Import-RnnState, Find-RnnFixedPoint, your own objects) and writes them when the pipeline ends. Numbers are written so that they read back bit for bit: round-trip text in .csv (header index,state_0,...,input_0,...) and .json (an array of objects with Index, State and Input), float64 in .npy (the states alone, [N, S]) and .npz (states, inputs and index, as numpy.load reads them). Every state must have one length, and every input one length (or none).'
        Inputs      = 'Objects with State (and optionally Input, Index) properties, by property name.'
        Outputs     = 'None, or System.IO.FileInfo with -PassThru.'
        Links       = @('Import-RnnState', 'Export-RnnResult')
        Defaults    = @{ Index = 'its position in the stream' }
        Parameters  = @{
            Path      = 'The file to write: .csv, .json, .npy or .npz.'
            State     = 'A state, bound by property name from piped objects.'
            Input     = 'The input at the state, bound by property name; written to .csv, .json and .npz.'
            Index     = 'The index of the state, bound by property name; the position in the stream when not given.'
            NoClobber = 'Never replaces an existing file: checked before the write and decided when the file is moved into place, so of two jobs writing one name the first to finish keeps it and the other stops with *FileExists.'
            PassThru  = 'Emits the written file as a FileInfo.'
            WhatIf    = 'Shows what would be written without writing.'
            Confirm   = 'Asks before writing.'
        }
        Examples    = @(
            @{ Code = 'Get-RnnTrajectory -Model $m -InputSequence $inputs | Export-RnnState ./run.npz'; Remarks = 'Saves the steps of a trajectory (each state with the input applied at it); in Python: d = numpy.load("run.npz"); d["states"], d["inputs"].' }
            @{ Code = 'Find-RnnFixedPoint -Model $m -InitialState $starts | Export-RnnState ./fixed.csv'; Remarks = 'Saves the fixed points found, with the input under which they are fixed.' }
        )
    }
    'Export-RnnResult' = @{
        Synopsis    = 'Streams the module''s results into a NumPy .npz file: one array per property, stacked along the stream.'
        Description = 'Takes any stream of one kind of result (RnnJacobian, RnnEigen, RnnEigenMode, RnnLinearizedStep, RnnFixedPoint, RnnFlowPoint, RnnState) and writes each property as an array whose first dimension is the number of results: Index [N] (int64), State [N, S], StateJacobian [N, S, S], Eigenvalues [N, S] (complex128), Eigenvectors [N, S, S] (complex128, column k the eigenvector of Eigenvalues[k], as torch.linalg.eig returns V), scalars as [N] (float64, int64 or bool) and text (Kind) as fixed-width unicode. The results go to temporary files as they come (a million states never sit in memory) and the .npz is assembled when the stream ends, under a temporary name moved into place; a stopped command leaves no file. A property that some results lack (null) or have in another shape is not written, with a warning. In Python: d = numpy.load(path); d["StateJacobian"].'
        Inputs      = 'Any one kind of the module''s results, by value: RnnJacobian, RnnEigen, RnnEigenMode, RnnLinearizedStep, RnnFixedPoint, RnnFlowPoint, RnnState.'
        Outputs     = 'None, or System.IO.FileInfo with -PassThru.'
        Links       = @('Export-RnnState', 'Export-RnnPlot')
        Parameters  = @{
            Path        = 'The .npz file to write.'
            InputObject = 'The results, from the pipeline.'
            NoClobber   = 'Never replaces an existing file: checked before the write and decided when the file is moved into place, so of two jobs writing one name the first to finish keeps it and the other stops with *FileExists.'
            PassThru    = 'Emits the written file as a FileInfo.'
            WhatIf      = 'Shows what would be written without writing.'
            Confirm     = 'Asks before writing.'
        }
        Examples    = @(
            @{ Code = 'Import-RnnState ./states.npy | Get-RnnJacobian -Model $m | Export-RnnResult ./jacobians.npz'; Remarks = 'Every Jacobian, for numpy: numpy.load("jacobians.npz")["StateJacobian"] has shape (N, S, S).' }
            @{ Code = 'Get-RnnTrajectory -Model $m -InputSequence $inputs | Get-RnnEigen -Model $m | Export-RnnResult ./spectra.npz -PassThru'; Remarks = 'Eigenvalues and eigenvectors along a trajectory, as complex128 arrays.' }
        )
    }
    'Export-RnnPlot' = @{
        Synopsis    = 'Draws the module''s results as a .png or .svg picture: eigenvalue spectra, fixed points, flow fields, trajectories and timescales.'
        Description = 'Gathers the piped objects and draws one picture with ScottPlot when the pipeline ends. Spectrum: the eigenvalues of each piped RnnEigen (or RnnFixedPoint, or RnnEigenMode rows grouped by Index) on the complex plane with the unit circle, one colour per state, with a legend. FixedPoints: RnnFixedPoint objects in the plane of the first two principal components of their states (of the trajectory states when RnnState objects are piped with them, which are drawn behind in grey); stable points filled black, unstable ones hollow red, each unstable mode (UnstableModes) as a short red segment through its point, and the paths of RnnFixedPointEdge objects (Get-RnnFixedPointGraph) piped with them in blue. Bifurcation: RnnBranchPoint objects (Trace-RnnFixedPoint), the path parameter against the readout''s first output (or the first principal component of the states), stable stretches solid black, unstable dashed red, with folds, branch points, flips and Neimark-Sacker points marked. FlowField: an arrow per RnnFlowPoint (X, Y, VX, VY), longest arrow 0.9 of a grid cell, coloured by Speed with a colour bar; fixed points and trajectories piped with them are projected into the same plane. Trajectory: RnnState objects (Get-RnnTrajectory, Import-RnnState) in the plane of their first two principal components, coloured by time (or by trial with -ColorBy Trial); a new trajectory starts where Index stops growing or the Trial changes. -Axes projects the FixedPoints and Trajectory pictures on given directions instead. Timescales: spectral radius (left axis) and slowest time constant (right axis: in steps, or in the model''s time unit when it has a Dt, Import-RnnModel -Dt) of each spectrum against its Index. Without -Kind the kind follows from the input: branch points give Bifurcation, Lyapunov spectra give Lyapunov, flow points give FlowField, else fixed points give FixedPoints, else up to 8 spectra give Spectrum and more give Timescales, else states give Trajectory. The file is written under a temporary name and moved into place; an existing file is replaced unless -NoClobber is given.'
        Inputs      = 'RnnEigen, RnnEigenMode, RnnFixedPoint, RnnFixedPointEdge (Get-RnnFixedPointGraph), RnnBranchPoint (Trace-RnnFixedPoint), RnnFlowPoint, RnnState, RnnLyapunovSpectrum and RnnLyapunovExponent, by value.'
        Outputs     = 'None, or System.IO.FileInfo with -PassThru.'
        Links       = @('Get-RnnEigen', 'Find-RnnFixedPoint', 'Get-RnnFlowField', 'Get-RnnTrajectory')
        Defaults    = @{ Kind = 'inferred from the input'; Title = 'one that says what is drawn' }
        Parameters  = @{
            Path        = 'The picture to write: .png or .svg (by its extension).'
            InputObject = 'The results to draw, from the pipeline: RnnEigen, RnnEigenMode, RnnFixedPoint, RnnFlowPoint, RnnState.'
            Kind        = 'Spectrum, FixedPoints, FlowField, Trajectory, Timescales, Lyapunov or Bifurcation. Default: inferred from the input (see the description).'
            Title       = 'The title over the picture. Default: one that says what is drawn (for example "27 fixed points (8 stable)").'
            Width       = 'Width in pixels, 100 to 10,000.'
            Height      = 'Height in pixels, 100 to 10,000.'
            Scale       = 'Text, markers and lines scaled by this factor (0.25 to 20, default 1): for a figure at a stated print size, draw at a multiple of the default 800 x 600 and give that multiple, as -Width 2400 -Height 1800 -Scale 3.'
            NoClobber   = 'Never replaces an existing file: checked before the write and decided when the file is moved into place, so of two jobs writing one name the first to finish keeps it and the other stops with *FileExists.'
            Axes        = 'Two state-space vectors to project the FixedPoints and Trajectory pictures on, instead of the principal components: the readout''s rows (Get-RnnJacobian''s OutputJacobian), a choice axis, any regression axes, as in Mante et al. (2013). They are made orthonormal (the second loses its part along the first, as Get-RnnFlowField -Axes does) and pass through the states'' mean.'
            ColorBy     = 'A property whose values colour the pictures, one colour per value: Trial (each trial''s trajectory of Get-RnnTrajectory -InputFile), Input (the fixed points of several searches, by the input they were found at), or any property of your own, such as a condition added with Add-Member. Trajectories (RnnState) and fixed points (RnnFixedPoint, stable filled, unstable hollow) that have the property are coloured by it, with a legend up to 10 values (a colour bar for more numeric ones); a new trajectory starts where the value changes. Without it trajectories are coloured by time and fixed points by stability.'
            PassThru    = 'Emits the written file as a FileInfo.'
            WhatIf      = 'Shows what would be written without writing.'
            Confirm     = 'Asks before writing.'
        }
        Examples    = @(
            @{ Code = 'Get-RnnEigen -Model $m -State $h | Export-RnnPlot ./spectrum.png'; Remarks = 'The eigenvalues at one state, with the unit circle.' }
            @{ Code = '$fps = $traj | Find-RnnFixedPoint -Model $m -Count 256 -Noise 0.5 -Seed 1; @($traj) + @($fps) | Export-RnnPlot ./fixed-points.svg'; Remarks = 'The fixed points over the trajectory, stable filled and saddles hollow with their unstable modes, as an SVG.' }
            @{ Code = '@($traj | Get-RnnFlowField -Model $m -GridSize 15) + @($traj) | Export-RnnPlot ./flow.png -Width 1000 -Height 800'; Remarks = 'The flow field in the trajectory''s principal plane, with the trajectory on top.' }
            @{ Code = '$traj | Find-RnnFixedPoint -Model $m -Count 256 -Noise 0.5 -Seed 1 | Export-RnnPlot ./fixed-points-paper.png -Width 2400 -Height 1800 -Scale 3'; Remarks = 'A figure for a paper: three times the default resolution with text and markers three times as large, so it prints as the 800 x 600 picture does, at 300 dpi for 8 x 6 inches.' }
            @{ Code = 'Get-RnnTrajectory -Model $m -InputFile ./trials.npy | Export-RnnPlot ./trials.png -ColorBy Trial'; Remarks = 'Every trial of an input file, each in its own colour, in their principal plane.' }
            @{ Code = '$c = (Get-RnnJacobian -Model $m -State $h).OutputJacobian; $traj | Export-RnnPlot ./readout-plane.png -Axes $c[0], $c[1]'; Remarks = 'A trajectory projected on the readout''s first two rows (as d output / d state at $h), as Mante et al. project on task axes.' }
            @{ Code = '$a = Find-RnnFixedPoint -Model $m -InitialState $starts -Input 0,0,0; $b = Find-RnnFixedPoint -Model $m -InitialState $starts -Input 0.2,0,0; @($a) + @($b) | Export-RnnPlot ./inputs.png -ColorBy Input'; Remarks = 'The fixed points at two inputs in one picture, one colour per input.' }
            @{ Code = 'Get-RnnTrajectory -Model $m -InputFile ./trials.npy | ForEach-Object { $_ | Add-Member -NotePropertyName Condition -NotePropertyValue ($(if ($_.Trial % 2) { ''odd'' } else { ''even'' })) -PassThru } | Export-RnnPlot ./conditions.png -ColorBy Condition'; Remarks = 'Trials grouped by a condition of your own (here the trial number''s parity), one colour per condition.' }
            @{ Code = '$traj | Get-RnnEigen -Model $m -NoEigenvectors | Export-RnnPlot ./timescales.png'; Remarks = 'Spectral radius and slowest time constant along the trajectory (more than 8 spectra: the Timescales kind).' }
        )
    }
    'Join-RnnResult' = @{
        Synopsis    = 'Joins the .npz parts written by the tasks of an array job (Export-RnnResult) into one .npz, equal to the one-process result.'
        Description = 'Each array of the parts is concatenated along its first dimension, streamed entry by entry (the joined file may be larger than memory) and written under a temporary name moved into place. Parts that hold SourceRow (results of states read by Import-RnnState, with or without -Shard) are put in the order of the state file''s rows, whatever order they are given in, so the joined arrays equal those of a single process; parts that hold the same rows (one part per state file or checkpoint, or a part written twice) are not shards of one file: they are joined by Index or in the order given, with a warning that names two of them. Other parts whose Index ranges do not overlap (shards of the starts, Find-RnnFixedPoint -Shard -All) go in the order of their first Index; parts whose ranges overlap (one part per checkpoint, each numbered from 0) are joined in the order given, paths from a wildcard in natural order (part-2 before part-10). -Verbose says which order was used. Every part must hold the same arrays with the same trailing shapes (PartsDiffer otherwise); text arrays (Kind) of different widths are padded. In numpy the same join is: parts = [numpy.load(p) for p in glob.glob("part-*.npz")]; parts.sort(key=lambda d: d["SourceRow"][0]); joined = {k: numpy.concatenate([d[k] for d in parts]) for k in parts[0].files}.'
        Inputs      = 'System.String: part paths (wildcards allowed), by value or as FullName from Get-ChildItem.'
        Outputs     = 'None, or System.IO.FileInfo with -PassThru.'
        Links       = @('Export-RnnResult', 'Import-RnnState', 'Find-RnnFixedPoint')
        Parameters  = @{
            Unique          = 'For fixed points (Find-RnnFixedPoint''s results: parts with State and Q; other results are refused with UniqueNeedsFixedPoints): drops every row whose State is within -UniqueTolerance of a kept row''s in every coordinate (the rule Find-RnnFixedPoint merges points by): the fixed points that several shards of a search found, once each. Of each group the row with the lowest Q is kept (the first, where there is no Q), rows stay in the joined order, a StartCount column becomes each kept row''s sum over its group, FirstStart the group''s first start (a start''s number, not the -1 of a probe, where a start found the point too), and Index numbers the kept rows 0, 1, 2, ... afresh (the parts'' own numbers repeat). The verbose stream says how many rows were kept.'
            UniqueTolerance = 'With -Unique: how close two States are, in every coordinate, to be one (default 0.001, as Find-RnnFixedPoint -UniqueTolerance).'
            Path        = 'The parts: .npz files written by Export-RnnResult; wildcards allowed (part-*.npz).'
            Destination = 'The joined .npz to write; not one of the parts.'
            NoClobber   = 'Never replaces an existing file: decided when the joined file is moved into place, so of two jobs writing one name the first to finish keeps it and the other stops with ResultFileExists.'
            PassThru    = 'Emits the written file as a FileInfo.'
            WhatIf      = 'Shows what would be written without writing.'
            Confirm     = 'Asks before writing.'
        }
        Examples    = @(
            @{ Code = 'Find-RnnFixedPoint -Model $m -InitialState $starts -Shard 0 -ShardCount 2 -Seed 1 | Export-RnnResult ./fp-0.npz; Find-RnnFixedPoint -Model $m -InitialState $starts -Shard 1 -ShardCount 2 -Seed 1 | Export-RnnResult ./fp-1.npz; Join-RnnResult ./fp-*.npz ./fixed-points.npz -Unique -Verbose'; Remarks = 'The points of two shards of a search, each point once (shards find the same memories), with StartCount summed.' }
            @{ Code = 'foreach ($i in 0..3) { Import-RnnState ./states.npy -Shard $i -ShardCount 4 | Get-RnnEigen -Model $m -NoEigenvectors | Export-RnnResult "./part-$i.npz" }; Join-RnnResult ./part-*.npz ./spectra.npz -PassThru'; Remarks = 'Four shards analysed one after another (on a cluster, one per array task), then joined: spectra.npz equals what one Get-RnnEigen over the whole file writes.' }
            @{ Code = 'Get-ChildItem ./part-*.npz | Join-RnnResult -Destination ./joined.npz -Verbose'; Remarks = 'The parts from Get-ChildItem.' }
        )
    }
    'Get-RnnConfiguration' = @{
        Synopsis    = 'Shows the settings of the computations in this PowerShell process.'
        Description = 'Emits an RnnConfiguration: ThreadCount (libtorch''s intra-op threads, used by every analysis in the process), ProcessorCount and ModuleVersion.'
        Inputs      = 'None.'
        Outputs     = 'RnnConfiguration.'
        Links       = @('Set-RnnConfiguration')
        Parameters  = @{}
        Examples    = @(
            @{ Code = 'Get-RnnConfiguration'; Remarks = 'The current thread count, the number of cores and the module''s version.' }
            @{ Code = 'Get-RnnConfiguration | ConvertTo-Json'; Remarks = 'The same, for a job''s log.' }
        )
    }
    'Set-RnnConfiguration' = @{
        Synopsis    = 'Sets how many threads the analyses of this PowerShell process use.'
        Description = 'Sets libtorch''s intra-op thread count for the whole process (all runspaces). libtorch''s default is one thread per core. More threads pay only on large matrices (hundreds of units and more: eigendecompositions, Jacobians of large batches); below that each of the many small libtorch calls waits for the other threads, and one thread is faster: on a 2-core machine that was running other work, one thread was 3.2x faster for a Lyapunov spectrum of a 64-unit network (3.2 s against 10.3 s) and 2.6x to 3.5x faster for Find-RnnFixedPoint. In a batch job that runs several processes side by side, one thread each.'
        Inputs      = 'None.'
        Outputs     = 'None, or RnnConfiguration with -PassThru.'
        Links       = @('Get-RnnConfiguration')
        Parameters  = @{
            ThreadCount = 'The number of intra-op threads (1 or more).'
            PassThru    = 'Emits the new configuration.'
            WhatIf      = 'Shows what would change without changing it.'
            Confirm     = 'Asks before changing.'
        }
        Examples    = @(
            @{ Code = 'Set-RnnConfiguration -ThreadCount 1'; Remarks = 'One thread, for a job that runs one process per core.' }
            @{ Code = 'Set-RnnConfiguration -ThreadCount ([Environment]::ProcessorCount) -PassThru'; Remarks = 'One thread per core (libtorch''s default), showing the new configuration.' }
        )
    }
}
