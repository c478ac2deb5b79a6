namespace UserDataApi.Hosting;

/// <summary>
/// Standard security headers on every answer the application writes, error answers included.
/// (Answers Kestrel writes itself, such as 431 for oversized headers, never reach the application.)
/// </summary>
public static class SecurityHeaders
{
    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            // Set when the answer starts, so that the exception handler's cleared answer gets them too.
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                // frame-ancestors only: a script policy would break Swagger UI's inline scripts.
                headers.ContentSecurityPolicy = "frame-ancestors 'none'";
                headers["Referrer-Policy"] = "no-referrer";
                if (!context.Request.Path.StartsWithSegments("/swagger"))
                {
                    headers.CacheControl = "no-store";
                }
                return Task.CompletedTask;
            });
            return next(context);
        });
        return app;
    }
}
