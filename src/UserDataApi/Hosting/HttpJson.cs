using System.Text.Json.Serialization;

namespace UserDataApi.Hosting;

public static class HttpJson
{
    /// <summary>
    /// Answers omit absent (null) values, as both wire formats do; each API family adds its own
    /// source-generated contract (property names are declared there, not by a naming policy here).
    /// </summary>
    public static WebApplicationBuilder ConfigureJsonAnswers(this WebApplicationBuilder builder, params JsonSerializerContext[] contracts)
    {
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            foreach (var contract in contracts.Reverse())
            {
                json.SerializerOptions.TypeInfoResolverChain.Insert(0, contract);
            }
        });
        return builder;
    }
}
