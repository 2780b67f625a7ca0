//! The offline demo's upstream (`--demo`): gateway-testkit's mock provider on 127.0.0.1. It
//! lives here, in the binary, so that `gateway-app` does not depend on the test kit.

use std::net::SocketAddr;

use gateway_app::{DemoStarter, DemoUpstreamServer};
use gateway_testkit::{MockOptions, MockServer};

struct DemoMock(MockServer);

impl DemoUpstreamServer for DemoMock {
    fn base_url(&self) -> String {
        self.0.base_url()
    }
}

/// Starts the mock when the gateway asks. It keeps no request: nobody reads them, and
/// recording would grow with the traffic.
pub fn starter() -> DemoStarter {
    Box::new(|| {
        Box::pin(async {
            let local = SocketAddr::from(([127, 0, 0, 1], 0));
            let mock = MockServer::start_on(local, MockOptions::new().with_record(false)).await?;
            Ok(Box::new(DemoMock(mock)) as Box<dyn DemoUpstreamServer>)
        })
    })
}
