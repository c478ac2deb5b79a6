namespace UserDataApi.Tests.UserData;

/// <summary>Each user-data endpoint with a valid request body for it and the fields its answers always carry.</summary>
public static class EndpointCases
{
    public static readonly IReadOnlyDictionary<string, (object Body, string[] AnswerFields)> Endpoints = new Dictionary<string, (object, string[])>
    {
        ["set"] = (new { identity_provider = "telegram", value_key = "k", value_data = "v" }, []),
        ["get"] = (new { identity_provider = "telegram", value_keys = new[] { "k" } }, ["values"]),
        ["list-get"] = (new { identity_provider = "telegram" }, ["keys_private", "keys_public"]),
        ["shared-list-get"] = (new { identity_provider = "telegram" }, ["keys_shared", "next_search_id"]),
        ["delete"] = (new { identity_provider = "telegram", value_keys = new[] { "k" } }, []),
    };

    public static TheoryData<string> Names => new(Endpoints.Keys);

    public static object BodyWith(string endpoint, string identityProvider) => endpoint switch
    {
        "set" => new { identity_provider = identityProvider, value_key = "k", value_data = "v" },
        "get" or "delete" => new { identity_provider = identityProvider, value_keys = new[] { "k" } },
        _ => new { identity_provider = identityProvider },
    };
}
