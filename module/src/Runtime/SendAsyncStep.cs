using System;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace Microsoft.Graph.Beta.PowerShell.Runtime
{
    /// <summary>
    /// A step of the HTTP pipeline (-HttpPipelinePrepend / -HttpPipelineAppend), with the official
    /// signature: it may change the request, call <paramref name="next"/> and change the response,
    /// or answer without calling <paramref name="next"/> at all.
    /// </summary>
    public delegate Task<HttpResponseMessage> SendAsyncStep(HttpRequestMessage request, IEventListener callback, ISendAsync next);

    /// <summary>The rest of the pipeline, as a step sees it.</summary>
    public interface ISendAsync
    {
        /// <summary>Sends the request through the remaining steps and the module's own sender.</summary>
        Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, IEventListener callback);
    }

    /// <summary>Cancellation and signals shared by the steps of one call.</summary>
    public interface IEventListener
    {
        /// <summary>Cancelled when the user presses Ctrl+C.</summary>
        CancellationToken Token { get; }

        /// <summary>Cancels the call.</summary>
        Action Cancel { get; }

        /// <summary>Raises an event; this module accepts and ignores them.</summary>
        Task Signal(string id, CancellationToken token, Func<EventData> createMessage);
    }

    /// <summary>An event raised through <see cref="IEventListener.Signal"/>.</summary>
    public sealed class EventData
    {
        /// <summary>The event's id.</summary>
        public string Id { get; set; } = string.Empty;

        /// <summary>A message for the user.</summary>
        public string Message { get; set; } = string.Empty;
    }
}
