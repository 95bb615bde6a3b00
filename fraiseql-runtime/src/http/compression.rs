//! Response compression for the requests that ask for it. actix's `Compress` middleware
//! handles every response it wraps: it parses the response's content type, chooses an encoding
//! and re-wraps the body even when the request sent no `Accept-Encoding` and the answer goes out
//! as is. On a cache hit that was a tenth of the server's work, so requests without the header
//! bypass it: they get what the handler wrote, unencoded, exactly as `Compress` would send it.

use std::marker::PhantomData;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header;
use actix_web::middleware::Compress;
use actix_web::Error;
use futures_util::future::{Either, LocalBoxFuture, MapOk};
use futures_util::{FutureExt, TryFutureExt};

/// `Compress` for requests that send `Accept-Encoding`; every other request goes straight on.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct CompressWhenAccepted;

/// The wrapped service, shared by the two paths (actix runs one per worker thread).
pub(super) struct Shared<S>(Rc<S>);

impl<S: Service<ServiceRequest>> Service<ServiceRequest> for Shared<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&self, request: ServiceRequest) -> Self::Future {
        self.0.call(request)
    }
}

type Compressed<S> = <Compress as Transform<Shared<S>, ServiceRequest>>::Transform;
type Response<B> = ServiceResponse<EitherBody<B, BoxBody>>;

impl<S, B> Transform<S, ServiceRequest> for CompressWhenAccepted
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = Response<B>;
    type Error = Error;
    type Transform = CompressWhenAcceptedService<S, B>;
    type InitError = ();
    type Future = LocalBoxFuture<'static, Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let plain = Rc::new(service);
        let compressed = Compress::default().new_transform(Shared(plain.clone()));
        async move {
            Ok(CompressWhenAcceptedService {
                plain: Shared(plain),
                compressed: compressed.await?,
                body: PhantomData,
            })
        }
        .boxed_local()
    }
}

/// The middleware's service: see [`CompressWhenAccepted`].
pub(super) struct CompressWhenAcceptedService<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    plain: Shared<S>,
    compressed: Compressed<S>,
    body: PhantomData<fn() -> B>,
}

type PlainFuture<S, B> =
    MapOk<<S as Service<ServiceRequest>>::Future, fn(ServiceResponse<B>) -> Response<B>>;
type CompressedFuture<S, B> = MapOk<
    <Compressed<S> as Service<ServiceRequest>>::Future,
    fn(<Compressed<S> as Service<ServiceRequest>>::Response) -> Response<B>,
>;

impl<S, B> Service<ServiceRequest> for CompressWhenAcceptedService<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = Response<B>;
    type Error = Error;
    type Future = Either<PlainFuture<S, B>, CompressedFuture<S, B>>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.plain.poll_ready(cx)
    }

    fn call(&self, request: ServiceRequest) -> Self::Future {
        if request.headers().contains_key(header::ACCEPT_ENCODING) {
            let boxed: fn(_) -> Response<B> =
                |response: ServiceResponse<_>| response.map_into_boxed_body().map_into_right_body();
            Either::Right(self.compressed.call(request).map_ok(boxed))
        } else {
            let plain: fn(ServiceResponse<B>) -> Response<B> = ServiceResponse::map_into_left_body;
            Either::Left(self.plain.call(request).map_ok(plain))
        }
    }
}
