//! The Lambda function's entry point: configuration, the gateway's state, then the runtime
//! loop (see the library's docs).

use std::process::ExitCode;

use gateway_lambda::{Function, load_config};

fn main() -> ExitCode {
    let config = match load_config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    gateway_app::logging::init(gateway_app::logging::Format::Json, &config.logging.level);
    // One invocation at a time per instance: a single-threaded runtime is enough.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let function = Function::new(&config).await?;
        lambda_http::run(lambda_http::service_fn(move |event| {
            let function = function.clone();
            async move { function.handle(event).await }
        }))
        .await
        .map_err(|e| gateway_lambda::StartError(e.to_string()))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
