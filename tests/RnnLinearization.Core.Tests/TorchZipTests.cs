using System.IO.Compression;
using System.Text;
using Xunit;

namespace RnnLinearization.Core.Tests;

/// <summary>The torch.save reader on files written opcode by opcode, as torch.save writes them (protocol 2).</summary>
public class TorchZipTests
{
    private static byte[] Str(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        return new[] { (byte)'X' }.Concat(BitConverter.GetBytes(b.Length)).Concat(b).ToArray();
    }

    private static byte[] Int(long v) => new[] { (byte)'J' }.Concat(BitConverter.GetBytes((int)v)).ToArray();
    private static byte[] Global(string module, string name) => Encoding.ASCII.GetBytes($"c{module}\n{name}\n");
    private static byte[] B(char c) => new[] { (byte)c };
    private static byte[] Cat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
    private static byte[] Tuple(params long[] values) => Cat(B('('), Cat(values.Select(Int).ToArray()), B('t'));

    /// <summary>_rebuild_tensor_v2(storage 'key' of count floats, offset, sizes, strides, False, OrderedDict()).</summary>
    private static byte[] Tensor(string key, long count, long offset, long[] sizes, long[] strides) => Cat(
        Global("torch._utils", "_rebuild_tensor_v2"), B('('),
        B('('), Str("storage"), Global("torch", "FloatStorage"), Str(key), Str("cuda:0"), Int(count), B('t'), B('Q'),
        Int(offset), Tuple(sizes), Tuple(strides), new byte[] { 0x89 }, Global("collections", "OrderedDict"), B(')'), B('R'),
        B('t'), B('R'));

    private static byte[] Dict(params (string Key, byte[] Value)[] items) =>
        Cat(B('}'), B('('), Cat(items.Select(i => Cat(Str(i.Key), i.Value)).ToArray()), B('u'));

    private static string Zip(byte[] pickle, params (string Key, float[] Values)[] storages)
    {
        var path = Path.Combine(Path.GetTempPath(), $"torchzip-{Guid.NewGuid()}.pt");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            void Add(string name, byte[] data)
            {
                using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                s.Write(data);
            }
            Add("archive/data.pkl", Cat(new byte[] { 0x80, 2 }, pickle, B('.')));
            foreach (var (key, values) in storages)
                Add($"archive/data/{key}", values.SelectMany(BitConverter.GetBytes).ToArray());
            Add("archive/byteorder", Encoding.ASCII.GetBytes("little"));
            Add("archive/version", Encoding.ASCII.GetBytes("3\n"));
        }
        return path;
    }

    /// <summary>The file's tensors, read through ModelFile and materialised.</summary>
    private static Dictionary<string, Parameter> Read(string path)
    {
        using var file = ModelFile.Open(path);
        return file.Tensors.ToDictionary(kv => kv.Key, kv => new Parameter(kv.Value.Shape, kv.Value.Data));
    }

    private static T WithFile<T>(string path, Func<string, T> read)
    {
        try { return read(path); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ViewsIntoOneStorageAreReadAtTheirOffsetsAndStrides()
    {
        // One storage 0..11; a 2x3 view at offset 2, and its transpose-like view (strides 1, 2) at offset 0.
        var storage = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        var pickle = Dict(("a", Tensor("0", 12, 2, new long[] { 2, 3 }, new long[] { 3, 1 })),
                          ("b", Tensor("0", 12, 0, new long[] { 3, 2 }, new long[] { 1, 3 })),
                          ("optimizer_state_dict", Dict(("exp_avg", Tensor("0", 12, 0, new long[] { 12 }, new long[] { 1 })))),
                          ("model", Dict(("rnn.weight", Tensor("0", 12, 11, new long[] { 1 }, new long[] { 1 })))));
        var read = WithFile(Zip(pickle, ("0", storage)), Read);
        Assert.Equal(new[] { "a", "b", "model.rnn.weight" }, read.Keys.Order());
        Assert.Equal(new long[] { 2, 3 }, read["a"].Shape);
        Assert.Equal(new double[] { 2, 3, 4, 5, 6, 7 }, read["a"].Data);
        Assert.Equal(new double[] { 0, 3, 1, 4, 2, 5 }, read["b"].Data);
        Assert.Equal(new double[] { 11 }, read["model.rnn.weight"].Data);
    }

    [Theory]
    [InlineData(12, 10, "InconsistentTensorView", "reaches element")]   // a view past the end of its storage
    [InlineData(1000, 0, "UnreadableModelFile", "truncated or corrupt")] // a storage longer than its bytes in the zip
    public void SizesThatDoNotFitTheFileAreRefusedBeforeAllocating(long count, long offset, string id, string why)
    {
        var pickle = Dict(("w", Tensor("0", count, offset, new long[] { 4 }, new long[] { 1 })));
        var ex = Assert.Throws<RnnException>(() => WithFile(Zip(pickle, ("0", new float[12])), Read));
        Assert.Equal(id, ex.ErrorId);
        Assert.Contains(why, ex.Message);
    }

    [Fact]
    public void AFileThatAsksToCallAFunctionIsRefused()
    {
        var pickle = Dict(("x", Cat(Global("builtins", "eval"), B('('), Str("1+1"), B('t'), B('R'))));
        var ex = Assert.Throws<RnnException>(() => WithFile(Zip(pickle), Read));
        Assert.Equal("PickleCallRefused", ex.ErrorId);
        Assert.Contains("builtins.eval", ex.Message);
    }

    [Fact]
    public void AStateThatWouldMakePythonCallSomethingIsRefused()
    {
        // BUILD with {'__setstate__': print} on an object: Python would call print on the next BUILD.
        var setstate = Cat(Global("argparse", "Namespace"), B(')'), new byte[] { 0x81 }, B('}'), Str("__setstate__"), Global("builtins", "print"), B('s'), B('b'));
        var ex = Assert.Throws<RnnException>(() => WithFile(Zip(Dict(("cfg", setstate))), Read));
        Assert.Equal("PickleCallRefused", ex.ErrorId);
        Assert.Contains("__setstate__", ex.Message);
    }

    [Fact]
    public void ABuildOnATensorGivesItTheStateAsPyTorchSetsIt()
    {
        // Tensor.__setstate__: a 5-tuple gives the tensor its first item's values (PyTorch before 0.4 wrote Variables
        // so); a 3-tuple (requires_grad, volatile, hooks) leaves them; a 4-tuple is a view.
        var storage = Enumerable.Range(0, 4).Select(i => (float)i).ToArray();
        var five = Cat(Tensor("0", 4, 0, new long[] { 4 }, new long[] { 1 }), B('('), Tensor("0", 4, 1, new long[] { 2 }, new long[] { 1 }),
            B('N'), B('N'), B('N'), B('N'), B('t'), B('b'));
        var three = Cat(Tensor("0", 4, 0, new long[] { 4 }, new long[] { 1 }), new byte[] { 0x88, 0x89 }, B('N'), new byte[] { 0x87 }, B('b'));
        var four = Cat(Tensor("0", 4, 0, new long[] { 4 }, new long[] { 1 }), B('('), B('('), Str("storage"), Global("torch", "FloatStorage"), Str("0"),
            Str("cpu"), Int(4), B('t'), B('Q'), Int(2), Tuple(2), Tuple(1), B('t'), B('b'));
        var read = WithFile(Zip(Dict(("five", five), ("three", three), ("four", four)), ("0", storage)), Read);
        Assert.Equal(new double[] { 1, 2 }, read["five"].Data);
        Assert.Equal(new double[] { 0, 1, 2, 3 }, read["three"].Data);
        Assert.Equal(new double[] { 2, 3 }, read["four"].Data);
    }

    [Fact]
    public void ANameThatIsNotPlainDataIsReportedAndOneThatRunsCodeIsRefusedEvenUncalled()
    {
        var storage = Enumerable.Range(0, 4).Select(i => (float)i).ToArray();
        var path = Zip(Dict(("w", Tensor("0", 4, 0, new long[] { 4 }, new long[] { 1 })), ("settings", Global("mypackage.config", "Settings"))), ("0", storage));
        try
        {
            using var file = ModelFile.Open(path);
            Assert.Equal(new[] { "mypackage.config.Settings" }, file.Calls);
            Assert.Equal(new double[] { 0, 1, 2, 3 }, file.Tensors["w"].Data);
        }
        finally { File.Delete(path); }
        var ex = Assert.Throws<RnnException>(() => WithFile(Zip(Dict(("x", Global("os", "system")))), Read));
        Assert.Equal("PickleCallRefused", ex.ErrorId);
    }

    [Fact]
    public void AnUnknownOpcodeOrAMissingStorageIsUnreadable()
    {
        Assert.Equal("UnreadableModelFile", Assert.Throws<RnnException>(() => WithFile(Zip(Cat(Dict(), new byte[] { 0xf0 })), Read)).ErrorId);
        var pickle = Dict(("w", Tensor("7", 4, 0, new long[] { 4 }, new long[] { 1 })));
        var ex = Assert.Throws<RnnException>(() => WithFile(Zip(pickle), Read));
        Assert.Contains("missing", ex.Message);
    }
}

public class AtomicFileTests
{
    [Fact]
    public void AnInterruptedWriteLeavesTheOldFileAndNoHalfFile()
    {
        var dir = Directory.CreateTempSubdirectory("atomic").FullName;
        var path = Path.Combine(dir, "model.safetensors");
        try
        {
            File.WriteAllText(path, "old");
            Assert.Throws<IOException>(() => AtomicFile.Write(path, s => { s.Write(new byte[100]); throw new IOException("disk full"); }));
            Assert.Equal("old", File.ReadAllText(path));
            Assert.Single(Directory.GetFiles(dir));
            AtomicFile.Write(path, s => s.Write("new"u8));
            Assert.Equal("new", File.ReadAllText(path));
            Assert.Single(Directory.GetFiles(dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void NoClobberLosesToAFileAnotherWriterMadeDuringTheWrite()
    {
        var dir = Directory.CreateTempSubdirectory("atomic").FullName;
        try
        {
            var path = Path.Combine(dir, "result.npz");
            // The other job's file appears while this one writes (the race two -NoClobber jobs ran).
            var ex = Assert.Throws<RnnException>(() => AtomicFile.Write(path, s => { s.WriteByte(1); File.WriteAllText(path, "theirs"); }, "ResultFileExists"));
            Assert.Equal("ResultFileExists", ex.ErrorId);
            Assert.Equal(RnnErrorKind.WriteError, ex.Kind);
            Assert.Equal("theirs", File.ReadAllText(path));
            Assert.Equal(new[] { path }, Directory.GetFileSystemEntries(dir));   // and no temporary file left
            AtomicFile.Write(path, s => s.WriteByte((byte)'A'));                  // without -NoClobber the move replaces
            Assert.Equal("A", File.ReadAllText(path));
        }
        finally { Directory.Delete(dir, true); }
    }
}
