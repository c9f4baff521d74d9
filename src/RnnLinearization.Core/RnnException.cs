namespace RnnLinearization.Core;

/// <summary>What kind of failure an <see cref="RnnException"/> is; the names match PowerShell's ErrorCategory.</summary>
public enum RnnErrorKind
{
    InvalidArgument,
    InvalidData,
    ObjectNotFound,
    ReadError,
    WriteError,
    NotImplemented,
    ResourceUnavailable,
    InvalidOperation,
}

/// <summary>A failure the caller can act on: a stable id, a kind, and a message that says what to do.</summary>
public sealed class RnnException : Exception
{
    public RnnException(string errorId, RnnErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
    }

    /// <summary>Stable identifier, e.g. <c>StateLengthMismatch</c>; scripts may match on it.</summary>
    public string ErrorId { get; }

    public RnnErrorKind Kind { get; }
}
