using Grpc.Core;
using UserDataApi.Auth;
using UserDataApi.Intents.Rpc.User;

namespace UserDataApi.Intents.Transports;

/// <summary>
/// The UserService over gRPC (HTTP/2: on HTTPS by ALPN, or cleartext at <c>Grpc:Url</c>) and gRPC-Web: each call
/// passes <see cref="IntentGate"/>, then <see cref="UserServiceMethods"/>; errors travel as status and trailers.
/// </summary>
public sealed class GrpcUserService(IntentGate gate, UserServiceMethods methods, ILogger<GrpcUserService> logger) : UserService.UserServiceBase
{
    public override Task<StartIdentityProviderIntentResponse> StartIdentityProviderIntent(StartIdentityProviderIntentRequest request, ServerCallContext context) =>
        RunAsync(context, (caller, http) => methods.StartAsync(caller, request, http));

    public override Task<RetrieveIdentityProviderIntentResponse> RetrieveIdentityProviderIntent(RetrieveIdentityProviderIntentRequest request, ServerCallContext context) =>
        RunAsync(context, (caller, http) => methods.RetrieveAsync(caller, request, http));

    public override Task<AddIDPLinkResponse> AddIDPLink(AddIDPLinkRequest request, ServerCallContext context) =>
        RunAsync(context, (caller, http) => methods.AddLinkAsync(caller, request, http));

    public override Task<ListIDPLinksResponse> ListIDPLinks(ListIDPLinksRequest request, ServerCallContext context) =>
        RunAsync(context, (caller, http) => methods.ListLinksAsync(caller, request, http));

    public override Task<RemoveIDPLinkResponse> RemoveIDPLink(RemoveIDPLinkRequest request, ServerCallContext context) =>
        RunAsync(context, (caller, http) => methods.RemoveLinkAsync(caller, request, http));

    private async Task<TResponse> RunAsync<TResponse>(ServerCallContext context, Func<Caller, HttpContext, Task<IntentOutcome<TResponse>>> call)
    {
        var http = context.GetHttpContext();
        try
        {
            var (caller, refusal) = await gate.CheckAsync(http);
            if ((refusal ?? GrpcRequests.RefusalOf(http)) is { } refused)
            {
                throw refused.ToRpcException();
            }
            var outcome = await call(caller!, http);
            return outcome.Error is { } error ? throw error.ToRpcException() : outcome.Value!;
        }
        catch (Exception exception) when (exception is not RpcException && !context.CancellationToken.IsCancellationRequested)
        {
            // A fault of ours (the database away, say) is still a status of the contract, never "Unknown".
            logger.LogWarning("Unexpected {Exception} in {Method}", exception.GetType().Name, context.Method);
            throw IntentFailures.Unavailable().ToRpcException();
        }
    }
}
