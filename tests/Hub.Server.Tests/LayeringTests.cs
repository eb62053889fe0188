using System.Reflection;
using System.Reflection.Emit;
using Hub.Server.Subscriptions;

namespace Hub.Server.Tests;

/// <summary>
/// The folders of Hub.AspNetCore follow the data: the edge (REST, SignalR hubs, the dashboard, health, auth) calls the
/// delivery layer (stages and groups), which calls the shared parts below it (topics, publishing's validation,
/// telemetry's counters, limits, protocol) and the log; nothing inward refers to anything outward. Checked over the
/// compiled assembly: every type's signatures, locals and the members its IL touches (calls, fields, tokens), compiler-
/// generated closures and state machines included, so a reference cannot hide in a method body.
/// </summary>
public sealed class LayeringTests
{
    /// <summary>Each namespace under <c>Hub.Server.</c> and its layer: higher may refer to lower or equal, never up.</summary>
    private static readonly Dictionary<string, (int Rank, string Layer)> Layers = new(StringComparer.Ordinal)
    {
        ["Api"] = (3, "edge"),
        ["Hubs"] = (3, "edge"),
        ["Dashboard"] = (3, "edge"),
        ["Health"] = (3, "edge"),
        ["OpenApi"] = (3, "edge"),
        ["Auth"] = (3, "edge"),

        // In-process handlers and IHubPublisher are this process's edge, as Hubs/ is SignalR's: a handler's stage is a
        // Subscription whose channel invokes it, as a SignalR subscriber's channel is Hubs/SignalRSubscriberChannel.
        ["Handlers"] = (3, "edge"),
        ["Subscriptions"] = (2, "delivery"),
        ["Groups"] = (2, "delivery"),
        ["Publishing"] = (1, "shared"),
        ["Topics"] = (1, "shared"),
        ["Telemetry"] = (1, "shared"),
        ["Protocol"] = (1, "shared"),
        ["Limits"] = (1, "shared"),
    };

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(static f => (OpCode)f.GetValue(null)!)
        .ToDictionary(static o => o.Value);

    [Fact]
    public void NothingInward_RefersToAnythingOutward()
    {
        var assembly = typeof(SubscriptionRegistry).Assembly;
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        var unplaced = new SortedSet<string>(StringComparer.Ordinal);
        var checkedReferences = 0;
        foreach (var type in assembly.GetTypes())
        {
            if (Folder(type) is not { } from)
            {
                continue;
            }

            if (!Layers.TryGetValue(from, out var fromLayer))
            {
                unplaced.Add(from);
                continue;
            }

            foreach (var referenced in References(type).Where(t => t.Assembly == assembly))
            {
                if (Folder(referenced) is not { } to || to == from)
                {
                    continue;
                }

                checkedReferences++;
                if (!Layers.TryGetValue(to, out var toLayer))
                {
                    unplaced.Add(to);
                }
                else if (toLayer.Rank > fromLayer.Rank)
                {
                    violations.Add($"{type.FullName} ({fromLayer.Layer}) refers to {referenced.FullName} ({toLayer.Layer})");
                }
            }
        }

        Assert.True(checkedReferences > 0, "the scan found the references between folders");
        Assert.True(unplaced.Count == 0, $"namespaces without a layer (add them to {nameof(Layers)}): {string.Join(", ", unplaced)}");
        Assert.True(violations.Count == 0, "inward refers to outward:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void TheScan_SeesAReferenceMadeOnlyInsideAMethodBody()
    {
        // DeliveryGauges calls Enumerable.Sum, a static class no signature or local can name, and reads the snapshot
        // only as the value of a call chained into the next.
        var gauges = typeof(SubscriptionRegistry).Assembly.GetType("Hub.Server.Subscriptions.DeliveryGauges", throwOnError: true)!;

        var referenced = References(gauges).ToHashSet();

        Assert.Contains(typeof(Enumerable), referenced);
        Assert.Contains(typeof(DeliverySnapshot), referenced);
    }

    /// <summary>The folder (second segment of <c>Hub.Server.X</c>) a type's namespace names, or null outside them.</summary>
    private static string? Folder(Type type)
    {
        var ns = type.Namespace;
        if (ns is null || !ns.StartsWith("Hub.Server.", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = ns["Hub.Server.".Length..];
        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? rest : rest[..dot];
    }

    private static IEnumerable<Type> References(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null || t.IsGenericParameter || !found.Add(t))
            {
                return;
            }

            if (t.HasElementType)
            {
                Add(t.GetElementType());
            }

            if (t.IsGenericType)
            {
                foreach (var argument in t.GetGenericArguments())
                {
                    Add(argument);
                }

                if (!t.IsGenericTypeDefinition)
                {
                    Add(t.GetGenericTypeDefinition());
                }
            }
        }

        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        Add(type.BaseType);
        foreach (var contract in type.GetInterfaces())
        {
            Add(contract);
        }

        foreach (var field in type.GetFields(all))
        {
            Add(field.FieldType);
        }

        foreach (var property in type.GetProperties(all))
        {
            Add(property.PropertyType);
        }

        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (method is MethodInfo info)
            {
                Add(info.ReturnType);
            }

            foreach (var parameter in method.GetParameters())
            {
                Add(parameter.ParameterType);
            }

            var body = method.GetMethodBody();
            if (body is null)
            {
                continue;
            }

            foreach (var local in body.LocalVariables)
            {
                Add(local.LocalType);
            }

            foreach (var touched in TouchedByIl(method, body.GetILAsByteArray() ?? []))
            {
                Add(touched);
            }
        }

        return found;
    }

    /// <summary>The types whose members or tokens <paramref name="il"/> uses (calls, field accesses, newobj, ldtoken, casts).</summary>
    private static IEnumerable<Type> TouchedByIl(MethodBase method, byte[] il)
    {
        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var position = 0;
        while (position < il.Length)
        {
            short value = il[position++];
            if (value == 0xFE)
            {
                value = unchecked((short)(0xFE00 | il[position++]));
            }

            var opCode = OpCodesByValue[value];
            switch (opCode.OperandType)
            {
                case OperandType.InlineField:
                case OperandType.InlineMethod:
                case OperandType.InlineTok:
                case OperandType.InlineType:
                    var token = BitConverter.ToInt32(il, position);
                    position += 4;
                    var member = Resolve(method.Module, token, typeArguments, methodArguments);
                    if (member is Type touchedType)
                    {
                        yield return touchedType;
                    }
                    else if (member?.DeclaringType is { } owner)
                    {
                        yield return owner;
                        if (member is MethodInfo called)
                        {
                            yield return called.ReturnType;
                        }
                    }

                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    position += 1;
                    break;
                case OperandType.InlineVar:
                    position += 2;
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    position += 8;
                    break;
                case OperandType.InlineSwitch:
                    var targets = BitConverter.ToInt32(il, position);
                    position += 4 + (4 * targets);
                    break;
                default: // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
                    position += 4;
                    break;
            }
        }
    }

    private static MemberInfo? Resolve(Module module, int token, Type[]? typeArguments, Type[]? methodArguments)
    {
        try
        {
            return module.ResolveMember(token, typeArguments, methodArguments);
        }
        catch (ArgumentException)
        {
            return null; // a token of a generic context the scan does not reconstruct: its owner's other uses are seen
        }
    }
}
