using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Duration = Google.Protobuf.WellKnownTypes.Duration;
using Struct = Google.Protobuf.WellKnownTypes.Struct;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;
using Value = Google.Protobuf.WellKnownTypes.Value;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace UserDataApi.Hosting;

/// <summary>
/// Protobuf messages described in OpenAPI as their protojson looks, read from each message's descriptor rather
/// than from the generated class (whose public surface, <c>HasX</c>, <c>XCase</c>, parsers, is not the wire):
/// fields by JSON name, enums by their proto names, 64-bit integers as strings, <c>Timestamp</c> as an RFC 3339
/// string, <c>Struct</c> as any JSON object. Every other type goes to Swashbuckle's own resolver.
/// </summary>
public sealed class ProtoSchemas(ISerializerDataContractResolver inner) : ISerializerDataContractResolver
{
    /// <summary>Puts this resolver in front of the one <c>AddSwaggerGen</c> registered.</summary>
    public static void Decorate(IServiceCollection services)
    {
        var registered = services.Last(service => service.ServiceType == typeof(ISerializerDataContractResolver));
        services.Remove(registered);
        services.AddTransient<ISerializerDataContractResolver>(provider => new ProtoSchemas(registered switch
        {
            { ImplementationFactory: { } factory } => (ISerializerDataContractResolver)factory(provider),
            { ImplementationInstance: ISerializerDataContractResolver instance } => instance,
            _ => (ISerializerDataContractResolver)ActivatorUtilities.CreateInstance(provider, registered.ImplementationType!),
        }));
    }

    public DataContract GetDataContractForType(Type type)
    {
        if (type == typeof(ProtoInt64))
        {
            return DataContract.ForPrimitive(type, DataType.String, "int64");
        }
        if (type == typeof(Timestamp))
        {
            return DataContract.ForPrimitive(type, DataType.String, "date-time");
        }
        if (type == typeof(Duration))
        {
            return DataContract.ForPrimitive(type, DataType.String, null);
        }
        if (type == typeof(Struct))
        {
            return DataContract.ForDictionary(type, typeof(object), null);
        }
        if (type == typeof(Value))
        {
            return DataContract.ForDynamic(type);
        }
        if (type.IsEnum && ProtoNames(type) is { } names)
        {
            return DataContract.ForPrimitive(type, DataType.String, null, value => $"\"{names[(Enum)value]}\"");
        }
        if (typeof(IMessage).IsAssignableFrom(type) && DescriptorOf(type) is { } descriptor)
        {
            // Unknown fields are ignored on reading, not refused: extra properties are allowed.
            return DataContract.ForObject(type, descriptor.Fields.InDeclarationOrder().Select(field => PropertyOf(type, field)), typeof(object), null, null);
        }
        return inner.GetDataContractForType(type);
    }

    private static DataProperty PropertyOf(Type message, FieldDescriptor field)
    {
        var property = message.GetProperty(field.PropertyName);
        var type = field.FieldType is FieldType.Int64 or FieldType.UInt64 or FieldType.SInt64 or FieldType.Fixed64 or FieldType.SFixed64
            ? field.IsRepeated ? typeof(ProtoInt64[]) : typeof(ProtoInt64)
            : property?.PropertyType ?? typeof(object);
        return new DataProperty(field.JsonName, type, isRequired: false, isNullable: false, isReadOnly: false, isWriteOnly: false, memberInfo: property);
    }

    private static MessageDescriptor? DescriptorOf(Type message) =>
        message.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as MessageDescriptor;

    /// <summary>A generated protobuf enum's values by their names in the .proto (what protojson writes), or null for other enums.</summary>
    private static Dictionary<Enum, string>? ProtoNames(Type type)
    {
        var fields = type.GetFields(BindingFlags.Public | BindingFlags.Static);
        if (fields.Length == 0 || fields.Any(field => field.GetCustomAttribute<OriginalNameAttribute>() is null))
        {
            return null;
        }
        return fields.ToDictionary(field => (Enum)field.GetValue(null)!, field => field.GetCustomAttribute<OriginalNameAttribute>()!.Name);
    }

    // Stands for a 64-bit integer field, which protojson writes as a string of digits. (No XML comment: Swashbuckle
    // would put it on every such field.)
    private sealed class ProtoInt64;
}
