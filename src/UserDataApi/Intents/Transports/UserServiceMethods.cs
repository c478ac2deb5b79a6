using Google.Protobuf;
using Google.Protobuf.Reflection;
using Microsoft.Extensions.Options;
using UserDataApi.Auth;
using UserDataApi.Intents.Rpc.User;
using UserDataApi.Persistence;

namespace UserDataApi.Intents.Transports;

/// <summary>One of the UserService methods, as the transports that dispatch by name (Connect) call it.</summary>
public sealed record UnaryMethod(MessageDescriptor RequestType, Func<UserServiceMethods, Caller, IMessage, HttpContext, Task<IntentOutcome<IMessage>>> InvokeAsync);

/// <summary>
/// The five methods of ZITADEL's <c>zitadel.user.v2.UserService</c> this server answers (SPEC §4.1), one
/// implementation that the REST gateway, gRPC, gRPC-Web and Connect all call once they know the caller
/// (<see cref="IntentGate"/>) and have the request: each transport only carries messages and errors.
/// </summary>
public sealed class UserServiceMethods(IntentFlow flow, IntentLinks links, StorageDeadline deadline, IOptions<IntentsOptions> options)
{
    public const string ServiceName = "zitadel.user.v2.UserService";

    public static readonly IReadOnlyDictionary<string, UnaryMethod> ByName = new Dictionary<string, UnaryMethod>(StringComparer.Ordinal)
    {
        ["StartIdentityProviderIntent"] = Method<StartIdentityProviderIntentRequest, StartIdentityProviderIntentResponse>((m, caller, request, http) => m.StartAsync(caller, request, http)),
        ["RetrieveIdentityProviderIntent"] = Method<RetrieveIdentityProviderIntentRequest, RetrieveIdentityProviderIntentResponse>((m, caller, request, http) => m.RetrieveAsync(caller, request, http)),
        ["AddIDPLink"] = Method<AddIDPLinkRequest, AddIDPLinkResponse>((m, caller, request, http) => m.AddLinkAsync(caller, request, http)),
        ["ListIDPLinks"] = Method<ListIDPLinksRequest, ListIDPLinksResponse>((m, caller, request, http) => m.ListLinksAsync(caller, request, http)),
        ["RemoveIDPLink"] = Method<RemoveIDPLinkRequest, RemoveIDPLinkResponse>((m, caller, request, http) => m.RemoveLinkAsync(caller, request, http)),
    };

    public Task<IntentOutcome<StartIdentityProviderIntentResponse>> StartAsync(Caller caller, StartIdentityProviderIntentRequest request, HttpContext http) =>
        deadline.RunAsync(http, storage => flow.StartAsync(caller, request, CallbackUrl(http), storage), ProviderTime);

    public Task<IntentOutcome<RetrieveIdentityProviderIntentResponse>> RetrieveAsync(Caller caller, RetrieveIdentityProviderIntentRequest request, HttpContext http) =>
        deadline.RunAsync(http, storage => flow.RetrieveAsync(caller, request, storage));

    public Task<IntentOutcome<AddIDPLinkResponse>> AddLinkAsync(Caller caller, AddIDPLinkRequest request, HttpContext http) =>
        deadline.RunAsync(http, storage => links.AddAsync(caller, request, storage));

    public Task<IntentOutcome<ListIDPLinksResponse>> ListLinksAsync(Caller caller, ListIDPLinksRequest request, HttpContext http) =>
        deadline.RunAsync(http, storage => links.ListAsync(caller, request, storage));

    public Task<IntentOutcome<RemoveIDPLinkResponse>> RemoveLinkAsync(Caller caller, RemoveIDPLinkRequest request, HttpContext http) =>
        deadline.RunAsync(http, storage => links.RemoveAsync(caller, request, storage));

    /// <summary>The providers' callback (not a method of the service): within the storage deadline and <see cref="ProviderTime"/>.</summary>
    public Task<IntentOutcome<string>> CompleteAsync(CallbackParameters callback, HttpContext http) =>
        deadline.RunAsync(http, storage => flow.CompleteAsync(callback, CallbackUrl(http), storage), ProviderTime);

    /// <summary>
    /// What a call that talks to a provider may take beyond the storage deadline: up to six provider calls (discovery and key
    /// set, again after a key rotation, token, user info), each within the slowest provider's <c>TimeoutSeconds</c> (an LDAP
    /// sign-in takes one such span).
    /// </summary>
    public TimeSpan ProviderTime => TimeSpan.FromSeconds(6 * options.Value.Providers.Values.Select(p => p.TimeoutSeconds).DefaultIfEmpty(0).Max());

    /// <summary><c>{Intents:PublicBaseUrl}/idps/callback</c>; in Development without it, this request's own address.</summary>
    public string CallbackUrl(HttpContext http)
    {
        var baseUrl = string.IsNullOrEmpty(options.Value.PublicBaseUrl)
            ? $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}"
            : options.Value.PublicBaseUrl;
        return baseUrl.TrimEnd('/') + IntentEndpoints.CallbackPath;
    }

    private static UnaryMethod Method<TRequest, TResponse>(Func<UserServiceMethods, Caller, TRequest, HttpContext, Task<IntentOutcome<TResponse>>> call)
        where TRequest : IMessage<TRequest>, new()
        where TResponse : class, IMessage =>
        new(new TRequest().Descriptor, async (methods, caller, request, http) =>
        {
            var outcome = await call(methods, caller, (TRequest)request, http);
            return new IntentOutcome<IMessage>(outcome.Value, outcome.Error);
        });
}
