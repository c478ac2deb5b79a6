using UserDataApi.Intents;
using UserDataApi.UserData;

namespace UserDataApi.Hosting;

/// <summary>The last line of defence: an unexpected failure still gets a JSON answer of the contract, never a 500 page.</summary>
public static class ErrorAnswers
{
    public static WebApplicationBuilder ConfigureRequestLimits(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = JsonRequestBody.MaxBytes);
        return builder;
    }

    public static WebApplication UseJsonErrorAnswers(this WebApplication app)
    {
        app.UseExceptionHandler(failed => failed.Run(async context =>
        {
            if (context.Request.Path.StartsWithSegments("/user-data"))
            {
                context.RequestServices.GetRequiredService<UserDataMetrics>().Record(context, ResultCode.ServiceTemporarilyNotValid);
                context.Response.StatusCode = StatusCodes.Status200OK;
                await context.Response.WriteAsJsonAsync(new { result = (int)ResultCode.ServiceTemporarilyNotValid });
                return;
            }
            await IntentErrors.Unavailable("service temporarily unavailable").ExecuteAsync(context);
        }));
        return app;
    }
}
