using System.Text;
using System.Text.Json;

namespace Hub.Server.Publishing;

public sealed partial class PublishRequestParser
{
    /// <summary>
    /// The property names of each open object, compared unescaped when the object ends: a name met twice in one object
    /// is malformed JSON, and an escaped name that is not valid text (a lone surrogate) cannot be compared. As
    /// <see cref="JsonDocument"/> did, the first such failure in the order the objects end (and in each, the order of
    /// its names) is reported, and only when the whole body is well-formed JSON otherwise (<see cref="Failure"/>).
    /// An object's names are looked up in a set from <see cref="SetThreshold"/> names on.
    /// </summary>
    private sealed class PropertyNames
    {
        private const int SetThreshold = 8;
        private const int MaxKeptNames = 4096;
        private ReadOnlyMemory<byte> _body;
        private readonly List<(ReadOnlyMemory<byte> Name, string? Invalid)> _names = [];
        private readonly List<int> _starts = [];
        private HashSet<ReadOnlyMemory<byte>>? _set;

        /// <summary>The first duplicate name (a <see cref="JsonException"/>) or name that is not valid text (an <see cref="InvalidOperationException"/>).</summary>
        public Exception? Failure { get; private set; }

        public void Start(ReadOnlyMemory<byte> body) => _body = body;

        /// <summary>Lets go of the request's names; false when the lists grew too large to keep.</summary>
        public bool End()
        {
            (_body, Failure) = (default, null);
            _names.Clear();
            _starts.Clear();
            _set = null;
            return _names.Capacity <= MaxKeptNames && _starts.Capacity <= MaxDepth + 1;
        }

        public void Push() => _starts.Add(_names.Count);

        public void Pop()
        {
            var start = _starts[^1];
            _starts.RemoveAt(_starts.Count - 1);
            if (Failure is null)
            {
                Check(start);
            }

            _names.RemoveRange(start, _names.Count - start);
        }

        /// <summary>Adds the name the reader is on to the innermost object; returns it unescaped (empty when it is not valid text).</summary>
        public ReadOnlySpan<byte> Add(ref Utf8JsonReader reader)
        {
            if (!reader.ValueIsEscaped)
            {
                if (Failure is null)
                {
                    _names.Add((_body.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length), null));
                }

                return reader.ValueSpan;
            }

            var unescaped = new byte[reader.ValueSpan.Length];
            try
            {
                var name = unescaped.AsMemory(0, reader.CopyString(unescaped));
                if (Failure is null)
                {
                    _names.Add((name, null));
                }

                return name.Span;
            }
            catch (InvalidOperationException ex)
            {
                if (Failure is null)
                {
                    _names.Add((default, ex.Message));
                }

                return default;
            }
        }

        private void Check(int start)
        {
            var count = _names.Count - start;
            if (count >= SetThreshold)
            {
                (_set ??= new HashSet<ReadOnlyMemory<byte>>(NameComparer.Instance)).Clear();
            }

            for (var i = start; i < _names.Count; i++)
            {
                var (name, invalid) = _names[i];
                if (invalid is not null)
                {
                    Failure = new InvalidOperationException(invalid);
                    return;
                }

                if (count >= SetThreshold ? !_set!.Add(name) : Contains(start, i, name.Span))
                {
                    var text = Encoding.UTF8.GetString(name.Span);
                    // Worded as JsonDocument words it (the name cut at 15 characters), which is what publishers were told before.
                    Failure = new JsonException($"Duplicate property '{(text.Length <= 15 ? text : string.Concat(text.AsSpan(0, 15), "..."))}' encountered during deserialization.");
                    return;
                }
            }
        }

        private bool Contains(int start, int end, ReadOnlySpan<byte> name)
        {
            for (var i = start; i < end; i++)
            {
                if (_names[i].Name.Span.SequenceEqual(name))
                {
                    return true;
                }
            }

            return false;
        }
    }

    private sealed class NameComparer : IEqualityComparer<ReadOnlyMemory<byte>>
    {
        public static readonly NameComparer Instance = new();

        public bool Equals(ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => x.Span.SequenceEqual(y.Span);

        public int GetHashCode(ReadOnlyMemory<byte> name)
        {
            var hash = new HashCode();
            hash.AddBytes(name.Span);
            return hash.ToHashCode();
        }
    }
}
